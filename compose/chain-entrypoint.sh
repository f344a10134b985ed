#!/bin/sh
# Entry of the chain service's container: writes its config with the RPC URL from CHAIN_RPC_URL
# (compose/chain-config.ts), then becomes the command (node ... dist/chain/main.js), so Docker's signals reach it.
# In the image it runs from dist/compose/, next to the compiled step.
set -eu
node --enable-source-maps dist/compose/chain-config.js
exec "$@"
