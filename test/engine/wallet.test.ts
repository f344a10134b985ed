// Deposits (idempotent by depositId, amounts up to uint256, the asset's outstanding total kept within uint256)
// and withdrawals (available -> pending -> completed and gone, or failed and refunded).

import t from 'tap';
import {
  Fixture,
  UINT256_MAX,
  USDC,
  WETH,
  codeOf,
  oneOf,
  resultOf,
  stateHashExceptSequence,
  typesOf,
  usdc,
  weth,
} from './support.js';

t.test('deposits', async (t) => {
  t.test('a deposit credits available and says so', async (t) => {
    const f = new Fixture();

    const events = f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: usdc('100'), depositId: 'tx-1:0' });

    t.same(typesOf(events), ['depositCredited', 'balanceChanged', 'commandResult']);
    t.match(oneOf(events, 'depositCredited'), { depositId: 'tx-1:0', userId: 1, assetId: USDC, amount: usdc('100') });
    t.match(oneOf(events, 'balanceChanged'), {
      userId: 1,
      assetId: USDC,
      available: usdc('100'),
      held: 0n,
      pending: 0n,
    });
    t.match(resultOf(events), { status: 'accepted', code: null, orderId: null });
    t.equal(f.engine.depositedTotal[USDC], usdc('100'));
  });

  t.test(
    'the same deposit id credits once: a repeat is rejected DEPOSIT_DUPLICATE, whatever else it says',
    async (t) => {
      const f = new Fixture();
      f.ok({ type: 'deposit', userId: 1, assetId: USDC, amount: usdc('100'), depositId: 'tx-1:0' });
      const before = stateHashExceptSequence(f.engine);

      t.equal(
        codeOf(f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: usdc('100'), depositId: 'tx-1:0' })),
        'DEPOSIT_DUPLICATE',
      );
      t.equal(
        codeOf(f.when({ type: 'deposit', userId: 2, assetId: WETH, amount: weth('5'), depositId: 'tx-1:0' })),
        'DEPOSIT_DUPLICATE',
      );
      t.equal(stateHashExceptSequence(f.engine), before);
      t.same(f.balance(1, USDC).available, usdc('100'));
    },
  );

  t.test('amounts must be positive bigints within uint256', async (t) => {
    const f = new Fixture();
    const before = stateHashExceptSequence(f.engine);
    const deposit = (amount: unknown, depositId: string) =>
      f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: amount as bigint, depositId });
    t.equal(codeOf(deposit(0n, 'd1')), 'WALLET_AMOUNT_NOT_POSITIVE');
    t.equal(codeOf(deposit(-5n, 'd2')), 'WALLET_AMOUNT_NOT_POSITIVE');
    t.equal(codeOf(deposit(UINT256_MAX + 1n, 'd3')), 'WALLET_AMOUNT_OVERFLOW');
    t.equal(codeOf(deposit(100, 'd4')), 'COMMAND_MALFORMED', 'a number is not an amount');
    t.equal(codeOf(deposit('100', 'd5')), 'COMMAND_MALFORMED');
    t.equal(stateHashExceptSequence(f.engine), before);
    t.equal(resultOf(deposit(1n, 'd1')).status, 'accepted', 'a rejected deposit does not use up its id');
  });

  t.test(
    'a deposit of exactly 2^256-1 is credited; one more unit of that asset would overflow (RISK_BALANCE_OVERFLOW)',
    async (t) => {
      const f = new Fixture();
      t.equal(
        resultOf(f.when({ type: 'deposit', userId: 1, assetId: WETH, amount: UINT256_MAX, depositId: 'max' })).status,
        'accepted',
      );
      t.same(f.balance(1, WETH).available, UINT256_MAX);
      const before = stateHashExceptSequence(f.engine);

      t.equal(
        codeOf(f.when({ type: 'deposit', userId: 1, assetId: WETH, amount: 1n, depositId: 'one-more' })),
        'RISK_BALANCE_OVERFLOW',
      );
      t.equal(
        codeOf(f.when({ type: 'deposit', userId: 2, assetId: WETH, amount: 1n, depositId: 'other-user' })),
        'RISK_BALANCE_OVERFLOW',
        'the bound is on the asset total',
      );
      t.equal(stateHashExceptSequence(f.engine), before);
      t.equal(
        resultOf(f.when({ type: 'deposit', userId: 2, assetId: USDC, amount: UINT256_MAX, depositId: 'usdc-max' }))
          .status,
        'accepted',
        'another asset has its own bound',
      );

      f.ok({
        type: 'requestWithdrawal',
        userId: 1,
        assetId: WETH,
        amount: 1n,
        withdrawalId: 'w',
        destination: '0xabc',
      });
      t.equal(
        codeOf(f.when({ type: 'deposit', userId: 2, assetId: WETH, amount: 1n, depositId: 'while-pending' })),
        'RISK_BALANCE_OVERFLOW',
        'pending is still outstanding',
      );
      f.ok({ type: 'completeWithdrawal', withdrawalId: 'w' });
      t.equal(
        resultOf(f.when({ type: 'deposit', userId: 2, assetId: WETH, amount: 1n, depositId: 'after-withdrawal' }))
          .status,
        'accepted',
      );
    },
  );

  t.test('a deposit needs a valid user, a known asset and a printable deposit id', async (t) => {
    const f = new Fixture();
    const before = stateHashExceptSequence(f.engine);
    t.equal(
      codeOf(f.when({ type: 'deposit', userId: 0, assetId: USDC, amount: 1n, depositId: 'a' })),
      'WALLET_USER_INVALID',
    );
    t.equal(
      codeOf(f.when({ type: 'deposit', userId: 1.5, assetId: USDC, amount: 1n, depositId: 'a' })),
      'WALLET_USER_INVALID',
    );
    t.equal(
      codeOf(f.when({ type: 'deposit', userId: 1, assetId: 7, amount: 1n, depositId: 'a' })),
      'WALLET_ASSET_UNKNOWN',
    );
    t.equal(
      codeOf(f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: 1n, depositId: '' })),
      'DEPOSIT_ID_INVALID',
    );
    t.equal(
      codeOf(f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: 1n, depositId: 'x'.repeat(129) })),
      'DEPOSIT_ID_INVALID',
    );
    t.equal(stateHashExceptSequence(f.engine), before);
    t.equal(f.engine.accounts.size, 0, 'no account is created by a rejected deposit');
  });
});

t.test('withdrawals', async (t) => {
  function funded(): Fixture {
    const f = new Fixture();
    f.fund(1, { usdc: '1000' });
    return f;
  }

  t.test('a request moves the amount from available to pending', async (t) => {
    const f = funded();

    const events = f.when({
      type: 'requestWithdrawal',
      userId: 1,
      assetId: USDC,
      amount: usdc('400'),
      withdrawalId: 'w-1',
      destination: '0xdest',
    });

    t.same(typesOf(events), ['withdrawalPending', 'balanceChanged', 'commandResult']);
    t.match(oneOf(events, 'withdrawalPending'), {
      withdrawalId: 'w-1',
      userId: 1,
      assetId: USDC,
      amount: usdc('400'),
      destination: '0xdest',
    });
    t.same(f.balance(1, USDC), { available: usdc('600'), held: 0n, pending: usdc('400') });
  });

  t.test('completing it removes the pending amount from custody', async (t) => {
    const f = funded();
    f.ok({
      type: 'requestWithdrawal',
      userId: 1,
      assetId: USDC,
      amount: usdc('400'),
      withdrawalId: 'w-1',
      destination: '0xdest',
    });

    const events = f.when({ type: 'completeWithdrawal', withdrawalId: 'w-1', txHash: '0xfeed' });

    t.same(typesOf(events), ['withdrawalCompleted', 'balanceChanged', 'commandResult']);
    t.match(oneOf(events, 'withdrawalCompleted'), {
      withdrawalId: 'w-1',
      userId: 1,
      assetId: USDC,
      amount: usdc('400'),
      txHash: '0xfeed',
    });
    t.same(f.balance(1, USDC), { available: usdc('600'), held: 0n, pending: 0n });
    t.equal(f.engine.withdrawnTotal[USDC], usdc('400'));
    t.equal(f.engine.withdrawals.size, 0);
  });

  t.test('failing it refunds the pending amount to available', async (t) => {
    const f = funded();
    f.ok({
      type: 'requestWithdrawal',
      userId: 1,
      assetId: USDC,
      amount: usdc('400'),
      withdrawalId: 'w-1',
      destination: '0xdest',
    });

    const events = f.when({ type: 'failWithdrawal', withdrawalId: 'w-1', reason: 'reverted' });

    t.same(typesOf(events), ['withdrawalFailed', 'balanceChanged', 'commandResult']);
    t.match(oneOf(events, 'withdrawalFailed'), { withdrawalId: 'w-1', amount: usdc('400'), reason: 'reverted' });
    t.same(f.balance(1, USDC), { available: usdc('1000'), held: 0n, pending: 0n });
    t.equal(f.engine.withdrawnTotal[USDC], 0n);
  });

  t.test(
    'a withdrawal cannot take more than available: held and pending funds do not count (RISK_INSUFFICIENT_FUNDS)',
    async (t) => {
      const f = funded();
      f.rest(1, 'buy', '100', '1');
      f.ok({
        type: 'requestWithdrawal',
        userId: 1,
        assetId: USDC,
        amount: usdc('500'),
        withdrawalId: 'w-1',
        destination: '0xdest',
      });
      t.same(f.balance(1, USDC), { available: usdc('399.8'), held: usdc('100.2'), pending: usdc('500') });
      const before = stateHashExceptSequence(f.engine);

      t.equal(
        codeOf(
          f.when({
            type: 'requestWithdrawal',
            userId: 1,
            assetId: USDC,
            amount: usdc('399.800001'),
            withdrawalId: 'w-2',
            destination: '0xdest',
          }),
        ),
        'RISK_INSUFFICIENT_FUNDS',
      );
      t.equal(
        codeOf(
          f.when({
            type: 'requestWithdrawal',
            userId: 9,
            assetId: USDC,
            amount: 1n,
            withdrawalId: 'w-3',
            destination: '0xdest',
          }),
        ),
        'RISK_INSUFFICIENT_FUNDS',
        'a user without an account',
      );
      t.equal(stateHashExceptSequence(f.engine), before);
      t.equal(
        resultOf(
          f.when({
            type: 'requestWithdrawal',
            userId: 1,
            assetId: USDC,
            amount: usdc('399.8'),
            withdrawalId: 'w-2',
            destination: '0xdest',
          }),
        ).status,
        'accepted',
      );
    },
  );

  t.test(
    'a pending withdrawal id cannot be requested again (WITHDRAWAL_ID_DUPLICATE); once settled the id is free',
    async (t) => {
      const f = funded();
      f.ok({
        type: 'requestWithdrawal',
        userId: 1,
        assetId: USDC,
        amount: usdc('1'),
        withdrawalId: 'w-1',
        destination: '0xdest',
      });
      const before = stateHashExceptSequence(f.engine);

      t.equal(
        codeOf(
          f.when({
            type: 'requestWithdrawal',
            userId: 1,
            assetId: USDC,
            amount: usdc('1'),
            withdrawalId: 'w-1',
            destination: '0xdest',
          }),
        ),
        'WITHDRAWAL_ID_DUPLICATE',
      );
      t.equal(stateHashExceptSequence(f.engine), before);
      f.ok({ type: 'completeWithdrawal', withdrawalId: 'w-1' });
      // As REJECT_DESCRIPTIONS says, only a *pending* id is a duplicate: the engine forgets settled withdrawals.
      t.equal(
        resultOf(
          f.when({
            type: 'requestWithdrawal',
            userId: 1,
            assetId: USDC,
            amount: usdc('1'),
            withdrawalId: 'w-1',
            destination: '0xdest',
          }),
        ).status,
        'accepted',
      );
    },
  );

  t.test('completing or failing an unknown or settled withdrawal is rejected WITHDRAWAL_NOT_FOUND', async (t) => {
    const f = funded();
    f.ok({
      type: 'requestWithdrawal',
      userId: 1,
      assetId: USDC,
      amount: usdc('1'),
      withdrawalId: 'w-1',
      destination: '0xdest',
    });
    f.ok({ type: 'completeWithdrawal', withdrawalId: 'w-1' });
    const before = stateHashExceptSequence(f.engine);

    t.equal(codeOf(f.when({ type: 'completeWithdrawal', withdrawalId: 'w-1' })), 'WITHDRAWAL_NOT_FOUND');
    t.equal(codeOf(f.when({ type: 'failWithdrawal', withdrawalId: 'w-1' })), 'WITHDRAWAL_NOT_FOUND');
    t.equal(codeOf(f.when({ type: 'failWithdrawal', withdrawalId: 'never' })), 'WITHDRAWAL_NOT_FOUND');
    t.equal(codeOf(f.when({ type: 'completeWithdrawal', withdrawalId: '' })), 'WITHDRAWAL_ID_INVALID');
    t.equal(stateHashExceptSequence(f.engine), before);
  });

  t.test('a request needs a printable withdrawal id and destination', async (t) => {
    const f = funded();
    const before = stateHashExceptSequence(f.engine);
    t.equal(
      codeOf(
        f.when({
          type: 'requestWithdrawal',
          userId: 1,
          assetId: USDC,
          amount: 1n,
          withdrawalId: 'bad id',
          destination: '0xdest',
        }),
      ),
      'WITHDRAWAL_ID_INVALID',
    );
    t.equal(
      codeOf(
        f.when({ type: 'requestWithdrawal', userId: 1, assetId: USDC, amount: 1n, withdrawalId: 'w', destination: '' }),
      ),
      'WITHDRAWAL_DESTINATION_INVALID',
    );
    t.equal(
      codeOf(
        f.when({
          type: 'requestWithdrawal',
          userId: 1,
          assetId: USDC,
          amount: 0n,
          withdrawalId: 'w',
          destination: '0xdest',
        }),
      ),
      'WALLET_AMOUNT_NOT_POSITIVE',
    );
    t.equal(stateHashExceptSequence(f.engine), before);
  });
});
