// IP allow-lists per API key: IPv4 or IPv6 addresses and CIDR blocks, matched with
// node:net's BlockList. An IPv4 client seen through an IPv6 socket (::ffff:1.2.3.4) is matched as IPv4.

import { BlockList, isIP } from 'node:net';

export const IP_ALLOW_ENTRIES_MAX = 16;

export class IpAllowListError extends Error {
  override readonly name = 'IpAllowListError';
}

/** The entry in its normal form ("10.0.0.0/8", "2001:db8::1"), or an IpAllowListError naming what is wrong. */
export function normalIpEntry(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const m = /^([0-9A-Fa-f.:]{2,45})(?:\/([0-9]{1,3}))?$/.exec(entry);
  const version = m === null ? 0 : isIP(m[1]);
  if (m === null || version === 0)
    throw new IpAllowListError(`"${entry}" is not an IPv4 or IPv6 address or CIDR block`);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const bits = version === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (prefix > bits) throw new IpAllowListError(`"${entry}": the prefix length must be at most ${bits}`);
  return { address: m[1].toLowerCase(), prefix, family };
}

/** Validates and normalises a list (1 to IP_ALLOW_ENTRIES_MAX entries, no repeats). */
export function normalIpAllowList(entries: readonly string[]): string[] {
  if (entries.length === 0 || entries.length > IP_ALLOW_ENTRIES_MAX)
    throw new IpAllowListError(`an allow-list has 1 to ${IP_ALLOW_ENTRIES_MAX} entries`);
  const out = entries.map((e) => {
    const n = normalIpEntry(e);
    return n.prefix === (n.family === 'ipv4' ? 32 : 128) ? n.address : `${n.address}/${n.prefix}`;
  });
  return [...new Set(out)];
}

export function ipBlockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const n = normalIpEntry(e);
    list.addSubnet(n.address, n.prefix, n.family);
  }
  return list;
}

export function ipAllowed(list: BlockList, ip: string): boolean {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  const address = mapped === null ? ip : mapped[1];
  const version = isIP(address);
  if (version === 0) return false;
  return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
}
