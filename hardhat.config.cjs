// Hardhat is used only as a local EVM node for tests and the devnet (chain/devnet/node.ts); contracts are compiled
// with solc-js (chain/devnet/compile.ts), so no solidity section. The package is ESM, hence .cjs.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      // Automine: each transaction gets its own block; tests add blocks with hardhat_mine for confirmations.
      mining: { auto: true },
    },
  },
};
