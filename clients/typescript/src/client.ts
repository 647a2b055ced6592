/**
 * A typed client of Veza's main flows, checked by `tsc --strict` against the types that
 * openapi-typescript generates from the committed openapi.yaml (check.sh). Every field read
 * here is one the contract fixes: no `!`, no cast — if the schema made one optional, or
 * renamed it, this file stops compiling and CI fails.
 */
import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema";

type Schemas = components["schemas"];
export type Track = Schemas["TrackOutput"];
export type Order = Schemas["OrderOutput"];
export type Refund = Schemas["RefundOutput"];
export type ApiError = Schemas["Error"];

/** Thrown on any error answer: its status and its `{detail, code}` body. */
export class VezaError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(`${status} ${body.code}: ${body.detail}`);
  }
}

type Result<T, E> =
  | { data: T; error?: never; response: Response }
  | { data?: never; error: E; response: Response };

/** The body of a success, or a VezaError carrying the typed error body. */
function ok<T, E extends ApiError>(result: Result<T, E>): NonNullable<T> {
  if (result.error !== undefined) {
    throw new VezaError(result.response.status, result.error);
  }
  if (result.data === undefined || result.data === null) {
    throw new Error(`${result.response.status} without the body the schema promises`);
  }
  return result.data;
}

/** A success without a body (204), or a VezaError. */
function done<E extends ApiError>(result: Result<unknown, E>): void {
  if (result.error !== undefined) {
    throw new VezaError(result.response.status, result.error);
  }
}

export function connect(baseUrl: string, accessToken?: string): Client<paths> {
  const headers: Record<string, string> = accessToken
    ? { Authorization: `Bearer ${accessToken}` }
    : {};
  return createClient<paths>({ baseUrl, headers });
}

export async function signIn(baseUrl: string, email: string, password: string) {
  const anonymous = connect(baseUrl);
  const result = await anonymous.POST("/api/v1/auth/login", { body: { email, password } });
  if (result.error !== undefined && result.error.code === "invalid_credentials") {
    return null; // the one refusal a sign-in form shows as such
  }
  const auth = ok(result);
  const me: Schemas["UserOutput"] = auth.user;
  return { api: connect(baseUrl, auth.access), refresh: auth.refresh, userId: me.id };
}

export async function endOtherSessions(api: Client<paths>): Promise<number> {
  const page = ok(await api.GET("/api/v1/auth/sessions", { params: { query: { page: 1 } } }));
  let ended = 0;
  for (const session of page.results) {
    if (!session.current) {
      done(await api.DELETE("/api/v1/auth/sessions/{id}", { params: { path: { id: session.id } } }));
      ended += 1;
    }
  }
  return ended;
}

export async function likeNewestReadyTrack(api: Client<paths>): Promise<Track | null> {
  const page = ok(await api.GET("/api/v1/tracks", { params: { query: { ordering: "-created_at" } } }));
  const track = page.results.find((candidate) => candidate.status === "ready");
  if (track === undefined) return null;
  ok(await api.POST("/api/v1/tracks/{id}/like", { params: { path: { id: track.id } } }));
  const fresh = ok(await api.GET("/api/v1/tracks/{id}", { params: { path: { id: track.id } } }));
  console.log(`${fresh.title} by ${fresh.creator.username}: ${fresh.like_count} likes`);
  return fresh;
}

export async function playlistOf(api: Client<paths>, title: string, tracks: Track[]) {
  const playlist = ok(
    await api.POST("/api/v1/playlists", { body: { title, is_public: false } }),
  );
  for (const track of tracks) {
    ok(
      await api.POST("/api/v1/playlists/{id}/tracks", {
        params: { path: { id: playlist.id } },
        body: { track_id: track.id },
      }),
    );
  }
  const detail = ok(await api.GET("/api/v1/playlists/{id}", { params: { path: { id: playlist.id } } }));
  return detail.tracks.map((entry) => `${entry.position}. ${entry.track.title}`);
}

export async function buy(api: Client<paths>, productId: string, country: string) {
  const created = ok(
    await api.POST("/api/v1/marketplace/orders", {
      body: { items: [{ product_id: productId }], billing_country: country },
    }),
  );
  const order: Order = created.order;
  const cents = (amount: number) => `${(amount / 100).toFixed(2)} ${order.currency}`;
  console.log(
    `order ${order.id} ${order.status}: ${cents(order.net_amount)} + VAT ${cents(order.vat_amount)}`,
    `= ${cents(order.total_amount)}, pay with ${created.payment.client_secret}`,
  );
  return order;
}

/** Asks a refund of every item not refunded yet, then follows it; the window's refusal is a
 * typed code, not a string to parse. */
export async function refundAll(api: Client<paths>, order: Order): Promise<Refund | "too late"> {
  const items = order.items.filter((item) => !item.refunded).map((item) => item.id);
  const result = await api.POST("/api/v1/marketplace/orders/{id}/refund", {
    params: { path: { id: order.id } },
    body: { reason: "changed my mind", items },
  });
  if (result.error !== undefined && result.error.code === "refund_window_expired") {
    return "too late";
  }
  const opened = ok(result);
  const refund = ok(
    await api.GET("/api/v1/marketplace/refunds/{id}", {
      params: { path: { id: opened.refund.id } },
    }),
  );
  console.log(`refund ${refund.id}: ${refund.status} since ${refund.created_at}`);
  return refund;
}

export async function invoicesOf(api: Client<paths>, order: Order): Promise<string[]> {
  const page = ok(await api.GET("/api/v1/invoices", { params: { query: { order: order.id } } }));
  const lines: string[] = [];
  for (const summary of page.results) {
    const invoice = ok(await api.GET("/api/v1/invoices/{id}", { params: { path: { id: summary.id } } }));
    lines.push(`${invoice.number} (${invoice.kind}) ${invoice.gross_total} ${invoice.currency}`);
  }
  return lines;
}

export async function sellerMoney(api: Client<paths>) {
  const balance = ok(
    await api.GET("/api/v1/marketplace/seller/balance", { params: { query: { currency: "EUR" } } }),
  );
  const payouts = ok(await api.GET("/api/v1/marketplace/seller/payouts", {}));
  const paid = payouts.results.filter((payout) => payout.status === "paid");
  return {
    available: balance.available,
    pending: balance.pending,
    held: balance.held,
    debt: balance.debt,
    nextPayoutAt: balance.next_payout_at,
    paidOut: paid.reduce((sum, payout) => sum + payout.amount, 0),
  };
}

export async function disputesOf(api: Client<paths>, order: Order) {
  const full = ok(
    await api.GET("/api/v1/marketplace/orders/{id}", { params: { path: { id: order.id } } }),
  );
  const disputes: Schemas["DisputeOutput"][] = [];
  for (const summary of full.disputes) {
    disputes.push(
      ok(await api.GET("/api/v1/marketplace/disputes/{id}", { params: { path: { id: summary.id } } })),
    );
  }
  return disputes.map((dispute) => `${dispute.stage}/${dispute.status}: ${dispute.amount}`);
}

export async function reportTrack(api: Client<paths>, track: Track, description: string) {
  const report = ok(
    await api.POST("/api/v1/reports", {
      body: { target_type: "track", target_id: track.id, category: "spam", description },
    }),
  );
  return `${report.id} ${report.status} at ${report.created_at}`;
}

export async function developerSetup(api: Client<paths>, receiverUrl: string) {
  const key = ok(
    await api.POST("/api/v1/developer/api-keys", {
      body: { name: "ci", scopes: ["tracks:read"] },
    }),
  );
  const endpoint = ok(
    await api.POST("/api/v1/developer/webhooks", {
      body: { url: receiverUrl, events: ["track.ready"] },
    }),
  );
  const deliveries = ok(
    await api.GET("/api/v1/developer/webhooks/{id}/deliveries", {
      params: { path: { id: endpoint.id } },
    }),
  );
  return {
    key: key.key,
    scopes: key.scopes,
    secret: endpoint.secret,
    active: endpoint.is_active,
    lastStatus: deliveries.results.map((delivery) => delivery.status),
  };
}
