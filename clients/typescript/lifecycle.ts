// One order's whole life as a TypeScript consumer makes it, through the client generated
// from the OpenAPI document the service serves: the auction service creates the order, the
// Wallet holds the escrow and the payment flow marks it paid, the seller ships, the buyer
// confirms receipt, and the buyer reads the history. A change to the document that breaks
// this consumer fails its type check (`tsc --noEmit`) or this run.
//
// Reads API, PEERS (the stand-in peers), SERVICE_TOKEN, PEER_TOKEN and JWT_SECRET.

import { createHmac, randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { paths } from "./generated/api.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const API = env("API");
const PEERS = env("PEERS");
const SERVICE_TOKEN = env("SERVICE_TOKEN");
const PEER_TOKEN = env("PEER_TOKEN");
const JWT_SECRET = env("JWT_SECRET");

// From the stand-in peers' demo seed: a buyer with money, and a seller.
const BUYER = "b0e70000-0000-4000-8000-000000000001";
const SELLER = "5e11e500-0000-4000-8000-000000000001";

/** A user's token, HS256 as the service's identity provider signs it. */
function token(user: string): string {
  const encode = (text: string) => Buffer.from(text).toString("base64url");
  const head = encode(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const claims = encode(
    JSON.stringify({ sub: user, is_staff: false, exp: Math.floor(Date.now() / 1000) + 600 }),
  );
  const signature = createHmac("sha256", JWT_SECRET).update(`${head}.${claims}`).digest("base64url");
  return `${head}.${claims}.${signature}`;
}

const client = createClient<paths>({ baseUrl: API });
const asService = { "X-Service-Token": SERVICE_TOKEN };
const asUser = (user: string) => ({ Authorization: `Bearer ${token(user)}` });

/** The answer's body, or a failure naming the step and what the service said. */
function answered<T>(step: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new Error(`${step}: ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

async function holdEscrow(orderId: string, amount: string): Promise<string> {
  const answer = await fetch(`${PEERS}/api/v1/wallet/internal/hold-escrow/`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Service-Token": PEER_TOKEN,
      "Idempotency-Key": `ts-hold-${orderId}`,
    },
    body: JSON.stringify({ order_id: orderId, buyer_id: BUYER, amount }),
  });
  const body = (await answer.json()) as { escrow_id?: string };
  if (!answer.ok || !body.escrow_id) throw new Error(`hold: ${answer.status} ${JSON.stringify(body)}`);
  return body.escrow_id;
}

async function main(): Promise<void> {
  const created = answered(
    "create",
    await client.POST("/api/v1/orders/internal/create/", {
      headers: { ...asService, "Idempotency-Key": `ts-create-${randomUUID()}` },
      body: {
        listing_id: randomUUID(),
        buyer_id: BUYER,
        seller_id: SELLER,
        amount: "25.00",
        shipping_cost: "5.00",
        shipping_address: { name: "Ada", city: "Lyon" },
      },
    }),
  );
  check(created.status === "PENDING_PAYMENT", `created ${created.status}`);
  check(created.total === "30.00", `total ${created.total}`);

  const escrowId = await holdEscrow(created.id, created.total);
  const paid = answered(
    "mark paid",
    await client.POST("/api/v1/orders/internal/mark-paid/", {
      headers: asService,
      body: { order_id: created.id, escrow_id: escrowId },
    }),
  );
  check(paid.status === "PAID", `paid ${paid.status}`);

  const path = { params: { path: { id: created.id } } };
  const shipped = answered(
    "ship",
    await client.POST("/api/v1/orders/{id}/ship/", {
      ...path,
      headers: asUser(SELLER),
      body: { tracking_number: "1Z-TS-1", carrier: "UPS" },
    }),
  );
  check(shipped.status === "SHIPPED", `shipped ${shipped.status}`);
  check(shipped.allowed_actions.includes("dispute"), `the seller's actions ${shipped.allowed_actions}`);

  const completed = answered(
    "complete",
    await client.POST("/api/v1/orders/{id}/complete/", { ...path, headers: asUser(BUYER) }),
  );
  check(completed.status === "COMPLETED", `completed ${completed.status}`);

  const history = answered(
    "history",
    await client.GET("/api/v1/orders/{id}/history/", { ...path, headers: asUser(BUYER) }),
  );
  const events = history.results.map((entry) => entry.event_type);
  const expected = ["order.created", "order.paid", "order.shipped", "order.completed"];
  check(JSON.stringify(events) === JSON.stringify(expected), `history ${events}`);
  console.log(`lifecycle through the generated client: ${created.id} ${events.join(" → ")}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
