import net from 'node:net';

export interface UrlProblem {
  path: string;
  message: string;
}

/**
 * Server URL rules and the SSRF guard: https only, ServiceNow on *.service-now.com / *.servicenow.com,
 * no loopback, private, link-local or metadata addresses — unless the operator allow-listed the host
 * (ITSMC_ALLOWED_PARTNER_HOSTS: `host` or `host:port` entries), which also permits plain http.
 */
export function checkServerUrl(partnerType: string, raw: string, allowList: string[]): UrlProblem | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { path: 'serverUrl', message: `'${raw.slice(0, 100)}' is not an absolute URL` };
  }
  if (url.username || url.password) return { path: 'serverUrl', message: 'must not contain credentials' };
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (isAllowListed(host, url.port, allowList)) {
    return url.protocol === 'https:' || url.protocol === 'http:' ? null : { path: 'serverUrl', message: 'must be an http(s) URL' };
  }
  if (url.protocol !== 'https:') return { path: 'serverUrl', message: 'must use https (only allow-listed hosts may use http)' };
  if (isInternalAddress(host)) {
    return { path: 'serverUrl', message: `${host} is a loopback, private or link-local address; add it to ITSMC_ALLOWED_PARTNER_HOSTS to allow it` };
  }
  if (partnerType === 'ServiceNow' && !/\.(service-now|servicenow)\.com$/.test(host)) {
    return { path: 'serverUrl', message: 'a ServiceNow URL must be https://<instance>.service-now.com (or *.servicenow.com) unless the host is allow-listed' };
  }
  return null;
}

function isAllowListed(host: string, port: string, allowList: string[]): boolean {
  return allowList.some((entry) => {
    const [h, p] = entry.startsWith('[') ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]] : entry.split(':');
    return h === host && (!p || p === port);
  });
}

export function isInternalAddress(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local')) return true;
  const version = net.isIP(host);
  if (version === 4) return isInternalV4(host);
  if (version === 6) {
    const h = host.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return isInternalV4(mapped[1]);
    return h === '::1' || h === '::' || h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80');
  }
  return false;
}

function isInternalV4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
}
