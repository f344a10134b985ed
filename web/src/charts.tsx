// Candles (lightweight-charts, bundled) and a depth chart (a canvas of the book's cumulative quantities). Prices
// become numbers here only to place pixels; every figure the person reads elsewhere is an exact string.

import { CandlestickSeries, HistogramSeries, createChart } from 'lightweight-charts';
import type { IChartApi, ISeriesApi, UTCTimestamp } from 'lightweight-charts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import type { DepthBook } from './book.js';
import type { Market } from './types.js';
import { theme } from './theme.js';
import { useStore } from './store.js';

const INTERVALS = ['1m', '5m', '1h', '1d'] as const;
type Interval = (typeof INTERVALS)[number];
/** Candles are read again at most this often while trades come in. */
const CANDLE_REFRESH_MS = 2000;

interface Candle {
  openTimeMs: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function Candles(props: { market: Market; tradeCount: number }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; candles: ISeriesApi<'Candlestick'>; volume: ISeriesApi<'Histogram'> } | null>(
    null,
  );
  const [interval, setInterval_] = useState<Interval>('1m');
  const [empty, setEmpty] = useState(false);
  useEffect(() => {
    if (el.current === null) return;
    const c = createChart(el.current, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, textColor: cssVar('--muted'), attributionLogo: false },
      grid: { vertLines: { color: cssVar('--grid') }, horzLines: { color: cssVar('--grid') } },
      timeScale: { timeVisible: true, secondsVisible: false, rightOffset: 4, barSpacing: 10 },
    });
    const candles = c.addSeries(CandlestickSeries, {
      upColor: cssVar('--up'),
      downColor: cssVar('--down'),
      borderVisible: false,
      wickUpColor: cssVar('--up'),
      wickDownColor: cssVar('--down'),
    });
    const volume = c.addSeries(HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'volume' },
      color: cssVar('--grid-strong'),
    });
    c.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.current = { api: c, candles, volume };
    return () => {
      chart.current = null;
      c.remove();
    };
  }, []);
  const shade = useStore(theme);
  useEffect(() => {
    const c = chart.current;
    if (c === null) return;
    // The colours are the theme's CSS variables, read again when the theme changes.
    c.api.applyOptions({
      layout: { textColor: cssVar('--muted') },
      grid: { vertLines: { color: cssVar('--grid') }, horzLines: { color: cssVar('--grid') } },
    });
    c.candles.applyOptions({
      upColor: cssVar('--up'),
      downColor: cssVar('--down'),
      wickUpColor: cssVar('--up'),
      wickDownColor: cssVar('--down'),
    });
    c.volume.applyOptions({ color: cssVar('--grid-strong') });
  }, [shade]);
  const last = useRef(0);
  useEffect(() => {
    let live = true;
    const wait = Math.max(0, last.current + CANDLE_REFRESH_MS - Date.now());
    const timer = setTimeout(() => {
      last.current = Date.now();
      api<{ candles: Candle[] }>('GET', `/v1/markets/${props.market.symbol}/candles?interval=${interval}`)
        .then(({ candles }) => {
          if (!live || chart.current === null) return;
          const time = (c: Candle) => (c.openTimeMs / 1000) as UTCTimestamp;
          chart.current.candles.setData(
            candles.map((c) => ({
              time: time(c),
              open: Number(c.open),
              high: Number(c.high),
              low: Number(c.low),
              close: Number(c.close),
            })),
          );
          chart.current.volume.setData(candles.map((c) => ({ time: time(c), value: Number(c.volume) })));
          setEmpty(candles.length === 0);
        })
        .catch(() => undefined);
    }, wait);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [props.market.symbol, interval, props.tradeCount]);
  return (
    <div class="chart-wrap">
      <div class="toolbar" role="group" aria-label="Candle interval">
        {INTERVALS.map((i) => (
          <button key={i} type="button" aria-pressed={i === interval} onClick={() => setInterval_(i)}>
            {i}
          </button>
        ))}
        {empty ? <span class="muted small">no trades in this range yet</span> : null}
      </div>
      <div ref={el} class="chart" data-testid="candles" />
    </div>
  );
}

function DepthChart(props: { book: DepthBook | null; version: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const cv = canvas.current;
    const book = props.book;
    if (cv === null || book === null) return;
    const ratio = devicePixelRatio || 1;
    const w = cv.clientWidth;
    const h = cv.clientHeight;
    cv.width = w * ratio;
    cv.height = h * ratio;
    const ctx = cv.getContext('2d');
    if (ctx === null) return;
    ctx.scale(ratio, ratio);
    ctx.clearRect(0, 0, w, h);
    const bids = book.levels('bids', 1n, 200).map(([p, q]) => [Number(p), Number(q)]);
    const asks = book.levels('asks', 1n, 200).map(([p, q]) => [Number(p), Number(q)]);
    if (bids.length + asks.length === 0) return;
    const cum = (levels: number[][]) =>
      levels.reduce<number[][]>((acc, [p, q]) => [...acc, [p, (acc.at(-1)?.[1] ?? 0) + q]], []);
    const b = cum(bids);
    const a = cum(asks);
    const prices = [...b, ...a].map(([p]) => p);
    const lo = Math.min(...prices);
    const hi = Math.max(...prices);
    const top = Math.max(b.at(-1)?.[1] ?? 0, a.at(-1)?.[1] ?? 0) * 1.1;
    const x = (p: number) => (hi === lo ? w / 2 : ((p - lo) / (hi - lo)) * (w - 20) + 10);
    const y = (q: number) => h - (q / top) * (h - 10);
    const area = (pts: number[][], color: string) => {
      if (pts.length === 0) return;
      ctx.beginPath();
      ctx.moveTo(x(pts[0][0]), h);
      for (const [p, q] of pts) ctx.lineTo(x(p), y(q));
      ctx.lineTo(x(pts[pts.length - 1][0]), h);
      ctx.closePath();
      ctx.globalAlpha = 0.25;
      ctx.fillStyle = color;
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.strokeStyle = color;
      ctx.stroke();
    };
    area(b, cssVar('--up'));
    area(a, cssVar('--down'));
  }, [props.version, props.book]);
  return (
    <canvas
      ref={canvas}
      class="chart depth"
      data-testid="depth-chart"
      aria-label="Depth chart: cumulative bids and asks"
      role="img"
    />
  );
}

export function Charts(props: { market: Market; book: DepthBook | null; version: number; tradeCount: number }) {
  const [tab, setTab] = useState<'candles' | 'depth'>('candles');
  return (
    <section class="panel charts" aria-label="Charts">
      <div role="tablist" class="tabs" aria-label="Chart">
        <button type="button" role="tab" aria-selected={tab === 'candles'} onClick={() => setTab('candles')}>
          Candles
        </button>
        <button type="button" role="tab" aria-selected={tab === 'depth'} onClick={() => setTab('depth')}>
          Depth
        </button>
      </div>
      {tab === 'candles' ? (
        <Candles market={props.market} tradeCount={props.tradeCount} />
      ) : (
        <DepthChart book={props.book} version={props.version} />
      )}
    </section>
  );
}
