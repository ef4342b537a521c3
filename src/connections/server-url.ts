import net from 'node:net';
import type { PartnerDescriptor } from '../partners/descriptor.ts';
import type { AddressGuard } from '../partners/partner.ts';

export interface UrlProblem {
  path: string;
  message: string;
}

/**
 * Server URL rules and the SSRF guard: https only, the partner's own host rule (its descriptor), no loopback,
 * private, link-local or metadata addresses, no IPv4-mapped IPv6 literals and no trailing-dot names — unless
 * the operator allow-listed the host (ITSMC_ALLOWED_PARTNER_HOSTS: `host` or `host:port` entries), which also
 * permits plain http. The same private-address check runs again on the address actually connected
 * (`connectGuard`), so a name that resolves to an internal address later (DNS rebinding) is refused too.
 */
export function checkServerUrl(partner: Pick<PartnerDescriptor, 'checkServerHost'> | undefined, raw: string, allowList: string[]): UrlProblem | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { path: 'serverUrl', message: `'${raw.slice(0, 100)}' is not an absolute URL` };
  }
  if (url.username || url.password) return { path: 'serverUrl', message: 'must not contain credentials' };
  const host = hostOf(url);
  if (isAllowListed(host, url.port, allowList)) {
    return url.protocol === 'https:' || url.protocol === 'http:' ? null : { path: 'serverUrl', message: 'must be an http(s) URL' };
  }
  if (url.protocol !== 'https:') return { path: 'serverUrl', message: 'must use https (only allow-listed hosts may use http)' };
  if (host.endsWith('.')) return { path: 'serverUrl', message: `'${host}' ends with a dot; write the host name without it` };
  if (isIpv4Mapped(host)) return { path: 'serverUrl', message: `${host} is an IPv4-mapped IPv6 address; use the host name or the IPv4 address` };
  if (isInternalAddress(host)) {
    return { path: 'serverUrl', message: `${host} is a loopback, private or link-local address; add it to ITSMC_ALLOWED_PARTNER_HOSTS to allow it` };
  }
  const hostProblem = partner?.checkServerHost?.(host);
  return hostProblem ? { path: 'serverUrl', message: hostProblem } : null;
}

/** The connect-time half of the guard: internal addresses are refused unless the host is allow-listed. */
export function connectGuard(allowList: string[]): AddressGuard {
  return (host, address) => {
    const h = host.toLowerCase().replace(/^\[|\]$/g, '');
    if (allowList.some((entry) => allowListHost(entry) === h)) return null;
    return isInternalAddress(address)
      ? `${host} resolved to ${address}, a loopback, private or link-local address; add it to ITSMC_ALLOWED_PARTNER_HOSTS to allow it`
      : null;
  };
}

function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
}

function allowListHost(entry: string): string {
  return entry.startsWith('[') ? entry.slice(1, entry.indexOf(']')) : entry.split(':')[0];
}

function isAllowListed(host: string, port: string, allowList: string[]): boolean {
  return allowList.some((entry) => {
    const p = entry.startsWith('[') ? entry.split(']:')[1] : entry.split(':')[1];
    return allowListHost(entry) === host && (!p || p === port);
  });
}

function isIpv4Mapped(host: string): boolean {
  return net.isIP(host) === 6 && mappedV4(host) !== null;
}

/** `::ffff:127.0.0.1` or `::ffff:7f00:1` → `127.0.0.1`; anything else → null. */
function mappedV4(ip: string): string | null {
  const h = ip.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,4}:?:ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (dotted) return dotted[1];
  const hex = /^(?:0{0,4}:){0,4}:?:ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (!hex) return null;
  const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function isInternalAddress(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost') || name.endsWith('.internal') || name.endsWith('.local')) return true;
  const version = net.isIP(name);
  if (version === 4) return isInternalV4(name);
  if (version === 6) {
    const v4 = mappedV4(name);
    if (v4) return isInternalV4(v4);
    return name === '::1' || name === '::' || name.startsWith('fc') || name.startsWith('fd') || name.startsWith('fe80');
  }
  return false;
}

function isInternalV4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127) ||
    a >= 224
  );
}
