import { encode } from 'uqr';

/** A QR code as SVG: one path of the dark modules, with the quiet zone the standard asks for. */
export function Qr(props: { text: string; label: string }) {
  const { data, size } = encode(props.text, { ecc: 'M', border: 4 });
  let d = '';
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return (
    <svg class="qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={props.label} shape-rendering="crispEdges">
      <rect width={size} height={size} class="qr-bg" />
      <path d={d} class="qr-fg" />
    </svg>
  );
}
