// A whole flow through the typed client generated from openapi.json (openapi-typescript +
// openapi-fetch): register, log in, refresh, deposit with an Idempotency-Key, apply, approve,
// pay, and read a Problem with its code. Run by tests/live/test_typescript_client.py against a
// live server: BANK_API_URL, BANK_API_ADMIN_TOKEN. Prints one JSON line of what it saw.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Problem = components["schemas"]["Problem"];
type Money = string;

const baseUrl = process.env.BANK_API_URL ?? "";
const adminToken = process.env.BANK_API_ADMIN_TOKEN ?? "";
const password = "correct-Horse-42";

function bearer(token: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
}

function client(token?: string) {
  const api = createClient<paths>({ baseUrl });
  if (token) api.use(bearer(token));
  return api;
}

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} failed`);
  return value;
}

async function account(role: "customer" | "investor"): Promise<{ token: string; refresh: string }> {
  const name = `ts_${role}_${Math.random().toString(36).slice(2, 10)}`;
  const registered = await client().POST("/api/v1/auth/register", {
    body: { username: name, password, email: `${name}@example.com`, full_name: "TS Client", role },
  });
  must(registered.data, "register");
  const login = await client().POST("/api/v1/auth/token", {
    body: { username: name, password, scope: "" },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  const tokens = must(login.data, "login");
  return { token: tokens.access_token, refresh: tokens.refresh_token };
}

async function main(): Promise<void> {
  const investor = await account("investor");
  const renewed = must(
    (await client().POST("/api/v1/auth/refresh", { body: { refresh_token: investor.refresh } })).data,
    "refresh",
  );
  const spent = await client().POST("/api/v1/auth/refresh", {
    body: { refresh_token: investor.refresh },
  });
  const reuse: Problem | undefined = spent.error;

  const investorApi = client(renewed.access_token);
  const amount: Money = "2000.00";
  const deposit = must(
    (
      await investorApi.POST("/api/v1/investments/deposits", {
        body: { amount },
        params: { header: { "Idempotency-Key": "ts-deposit-1" } },
      })
    ).data,
    "deposit",
  );
  const replay = await investorApi.POST("/api/v1/investments/deposits", {
    body: { amount },
    params: { header: { "Idempotency-Key": "ts-deposit-1" } },
  });

  const customer = await account("customer");
  const customerApi = client(customer.token);
  const loan = must(
    (
      await customerApi.POST("/api/v1/loans", {
        body: { loan_type: "personal_loan", amount: "1000.00", term_months: 6 },
      })
    ).data,
    "apply",
  );
  const approved = must(
    (
      await client(adminToken).POST("/api/v1/loans/{loan_id}/approve", {
        params: { path: { loan_id: loan.id } },
      })
    ).data,
    "approve",
  );
  const schedule = must(
    (
      await customerApi.GET("/api/v1/loans/{loan_id}/schedule", {
        params: { path: { loan_id: loan.id } },
      })
    ).data,
    "schedule",
  );
  const first = must(schedule.installments[0], "first installment");
  const payment = must(
    (
      await customerApi.POST("/api/v1/loans/{loan_id}/payments", {
        params: { path: { loan_id: loan.id } },
        body: { amount: first.payment },
      })
    ).data,
    "pay",
  );
  const refused = await customerApi.POST("/api/v1/loans/{loan_id}/payments", {
    params: { path: { loan_id: loan.id } },
    body: { amount: "999999.00" },
  });
  const problem: Problem | undefined = refused.error;

  console.log(
    JSON.stringify({
      deposit: deposit.amount,
      replayed: replay.response.headers.get("idempotent-replayed"),
      reuse: reuse?.code,
      approved: approved.status,
      paid: payment.amount,
      due: first.payment,
      applied: payment.applied.map((part) => part.number),
      problem: problem?.code,
      problemStatus: refused.response.status,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
