-- Candles and the 24 h ticker read a market's trades by time range.
CREATE INDEX trades_market_time ON trades (market_id, executed_at);
