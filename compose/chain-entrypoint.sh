#!/bin/sh
# Entry of the chain service's container: writes its config with the RPC URL from CHAIN_RPC_URL
# (compose/chain-config.ts), then becomes the command (npm run chain), so Docker's signals reach it.
set -eu
node --import tsx compose/chain-config.ts
exec "$@"
