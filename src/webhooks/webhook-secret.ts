import { randomBytes } from 'node:crypto';

/** A Standard Webhooks secret: "whsec_" and 256 random bits in base64. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** After a rotation the previous secret keeps signing alongside the new one this long (ms). */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 3600 * 1000;

/** At most this many endpoints per owner (a fund's own, or one structure's). */
export const ENDPOINTS_PER_OWNER = 16;
