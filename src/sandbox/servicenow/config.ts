/**
 * Run-time switches of the ServiceNow sandbox. Each one stands for a behaviour that partner-apis.md
 * marks as unverified or instance-dependent, so a client can be tested against both variants.
 * All are changeable through `PUT /api/x_sandbox/rules` (merge).
 */
export interface SandboxRules {
  /** Data policy: close_code + close_notes mandatory when an incident enters Resolved (6) or Closed (7). */
  closeCodeRequiredOnResolve: boolean;
  /** HTTP status of a data policy failure (403 per the TADDM status list; 400 on some releases). */
  dataPolicyErrorStatus: number;
  /** hold_reason mandatory when an incident enters On Hold (3). */
  holdReasonRequiredOnHold: boolean;
  /** close_code + close_notes mandatory when a change_request enters Closed (3). */
  changeCloseCodeRequiredOnClose: boolean;
  /** Incident priority is recomputed from impact × urgency on every write (overwrites a priority sent in). */
  priorityFromMatrix: boolean;
  /** sysparm_limit when none is given. */
  defaultLimit: number;
  /** Largest sysparm_limit honoured; larger values are clamped. */
  maxLimit: number;
  /** glide.invalid_query.returns_no_rows: a condition on an unknown field makes the query match nothing. */
  invalidQueryReturnsNoRows: boolean;
  /** Status for an unknown table (400 "Invalid table" observed on a PDI). */
  invalidTableStatus: number;
  /** Link header quirk of old releases: a rel="prev" with a negative sysparm_offset on the first page. */
  linkPrevQuirk: boolean;
  /** sysparm_no_count=true drops X-Total-Count. */
  noCountOmitsTotalHeader: boolean;
  /** Old (v1-era) behaviour: a list query with no match answers 404 "No Record found". */
  emptyListIs404: boolean;
  /** Refresh grant answers include the (current) refresh token. */
  refreshGrantReturnsRefreshToken: boolean;
  /** Send X-RateLimit-Remaining too (real instances don't; partner-apis §1.4). */
  rateLimitRemainingHeader: boolean;
  /** Responses set JSESSIONID / glide_user_route cookies like a real instance. */
  sessionCookies: boolean;
  /** Delay before a jsonv2 event is processed into em_event/em_alert; 0 = before the response. */
  eventProcessingDelayMs: number;
  /** A closed alert whose key fires again within this many seconds is reopened (state Reopen); 0 = never (new alert). */
  alertReopenWindowSec: number;
  /** With sysparm_display_value=true/all, journal fields show their history (formatted) instead of "". */
  journalDisplayHistory: boolean;
}

export const DEFAULT_RULES: SandboxRules = {
  closeCodeRequiredOnResolve: true,
  dataPolicyErrorStatus: 403,
  holdReasonRequiredOnHold: true,
  changeCloseCodeRequiredOnClose: false,
  priorityFromMatrix: true,
  defaultLimit: 10000,
  maxLimit: 10000,
  invalidQueryReturnsNoRows: false,
  invalidTableStatus: 400,
  linkPrevQuirk: false,
  noCountOmitsTotalHeader: true,
  emptyListIs404: false,
  refreshGrantReturnsRefreshToken: true,
  rateLimitRemainingHeader: false,
  sessionCookies: true,
  eventProcessingDelayMs: 0,
  alertReopenWindowSec: 0,
  journalDisplayHistory: true,
};

export interface OAuthSettings {
  accessTokenLifetimeSec: number;
  refreshTokenLifetimeSec: number;
  /** HTTP status of token endpoint failures (401 observed; exact status per failure mode unverified). */
  errorStatus: number;
  /** A password/refresh grant while an access token is still valid returns that same token (and extends it). */
  reuseValidAccessToken: boolean;
}

export const DEFAULT_OAUTH: OAuthSettings = {
  accessTokenLifetimeSec: 1800,
  refreshTokenLifetimeSec: 8_640_000,
  errorStatus: 401,
  reuseValidAccessToken: true,
};
