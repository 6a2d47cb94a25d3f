// bank-api reference console: every role's main task over the public API, from a browser.
// The API's address is this page's origin, or `?api=https://...` when the console is served
// from another origin (the API must list that origin in BANK_API_CORS_ORIGINS). Tokens live in
// memory only; the access token is renewed with the refresh token before it expires and after
// a 401.
"use strict";

const API = (new URLSearchParams(location.search).get("api") || location.origin).replace(/\/$/, "");
const session = { access: null, refresh: null, timer: null, renewals: 0 };
const $ = (selector) => document.querySelector(selector);

function show(element, visible) { element.hidden = !visible; }

function say(message) {
  show($("#error"), false);
  $("#notice").textContent = message;
  show($("#notice"), true);
}

function fail(problem) {
  show($("#notice"), false);
  $("#error").textContent = problem.detail || problem.title || String(problem);
  $("#error").dataset.code = problem.code || "";
  show($("#error"), true);
}

async function call(method, path, body, retry = true) {
  const headers = { Accept: "application/json" };
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && retry && session.refresh && path !== "/api/v1/auth/refresh") {
    if (await renew()) return call(method, path, body, false);
  }
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) throw data;
  return data;
}

function start(tokens) {
  session.access = tokens.access_token;
  session.refresh = tokens.refresh_token;
  clearTimeout(session.timer);
  // renew at 80 % of the access token's life
  session.timer = setTimeout(renew, Math.max(5, tokens.expires_in * 0.8) * 1000);
}

async function renew() {
  try {
    const tokens = await call("POST", "/api/v1/auth/refresh", { refresh_token: session.refresh }, false);
    start(tokens);
    session.renewals += 1;
    $("#session").textContent = `session renewed (${session.renewals})`;
    return true;
  } catch (problem) {
    fail(problem);
    return false;
  }
}

async function login(form) {
  const response = await fetch(`${API}/api/v1/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({ username: form.username.value, password: form.password.value }),
  });
  const data = await response.json();
  if (!response.ok) throw data;
  start(data);
  const me = await call("GET", "/api/v1/users/me");
  $("#who").textContent = `${me.username} (${me.role})`;
  for (const id of ["#renew", "#logout"]) show($(id), true);
  show($("#login"), false);
  show($(`#${me.role}`), true);
  await HOMES[me.role]();
}

async function logout() {
  await call("POST", "/api/v1/auth/logout", { refresh_token: session.refresh });
  location.reload();
}

function rows(table, items, cells) {
  const body = $(table).querySelector("tbody");
  body.replaceChildren(...items.map((item) => {
    const row = document.createElement("tr");
    row.dataset.id = item.id || "";
    for (const cell of cells(item)) {
      const td = document.createElement("td");
      if (cell instanceof Node) td.append(cell); else td.textContent = cell;
      row.append(td);
    }
    return row;
  }));
}

function button(label, action) {
  const element = document.createElement("button");
  element.textContent = label;
  element.addEventListener("click", () => action().catch(fail));
  return element;
}

function figures(list, values) {
  $(list).replaceChildren(...Object.entries(values).flatMap(([name, value]) => {
    const term = document.createElement("dt");
    term.textContent = name;
    const description = document.createElement("dd");
    description.textContent = value;
    description.dataset.field = name;
    return [term, description];
  }));
}

const short = (id) => id.slice(0, 8);

async function customerHome() {
  const products = await call("GET", "/api/v1/loan-products");
  $("#products").replaceChildren(...products.map((p) => new Option(p.name, p.code)));
  const page = await call("GET", "/api/v1/loans?limit=50");
  rows("#own-loans", page.items, (loan) => [
    short(loan.id), loan.amount, loan.status, loan.outstanding_principal,
    button("Schedule", () => schedule(loan.id)),
  ]);
}

async function schedule(loanId) {
  const plan = await call("GET", `/api/v1/loans/${loanId}/schedule`);
  $("#schedule-loan").textContent = short(loanId);
  $("#pay").dataset.loan = loanId;
  rows("#schedule", plan.installments, (i) => [
    i.number, i.due_date, i.payment, `${i.paid_principal} + ${i.paid_interest}`, i.status,
  ]);
  const next = plan.installments.find((i) => i.status !== "paid");
  if (next) $("#pay").amount.value = next.payment;
  show($("#schedule-box"), true);
}

async function investorHome() {
  const p = await call("GET", "/api/v1/investments/portfolio");
  figures("#portfolio", {
    available: p.available, invested: p.invested, interest_earned: p.interest_earned,
    losses: p.losses, total: p.total,
  });
}

async function agentHome() {
  const page = await call("GET", "/api/v1/loans?status=new&limit=50");
  rows("#applications", page.items, (loan) => [
    short(loan.id), loan.loan_type, loan.amount, loan.term_months,
    button("Forward", async () => {
      await call("POST", `/api/v1/loans/${loan.id}/request`, { note: "reviewed in the console" });
      say(`Loan ${short(loan.id)} forwarded to the admin.`);
      await agentHome();
    }),
  ]);
}

async function adminHome() {
  const requested = await call("GET", "/api/v1/loans?status=requested&limit=50");
  rows("#approvals", requested.items, (loan) => [
    short(loan.id), loan.loan_type, loan.amount, loan.status,
    button("Approve", async () => {
      const done = await call("POST", `/api/v1/loans/${loan.id}/approve`);
      say(`Loan ${short(loan.id)} is ${done.status}.`);
      await adminHome();
    }),
  ]);
  const pool = await call("GET", "/api/v1/admin/pool");
  figures("#pool", {
    investors_available: pool.investors_available, outstanding_principal: pool.outstanding_principal,
    active_loans: pool.active_loans, npl_ratio: pool.npl_ratio,
  });
}

const HOMES = { customer: customerHome, investor: investorHome, agent: agentHome, admin: adminHome };

function onSubmit(selector, action) {
  $(selector).addEventListener("submit", (event) => {
    event.preventDefault();
    action(event.target).catch(fail);
  });
}

onSubmit("#login", login);
onSubmit("#apply", async (form) => {
  const loan = await call("POST", "/api/v1/loans", {
    loan_type: form.loan_type.value, amount: form.amount.value,
    term_months: Number(form.term_months.value),
  });
  say(`Applied: loan ${short(loan.id)} of ${loan.amount}, ${loan.monthly_payment} a month.`);
  await customerHome();
});
onSubmit("#pay", async (form) => {
  const paid = await call("POST", `/api/v1/loans/${form.dataset.loan}/payments`, { amount: form.amount.value });
  say(`Paid ${paid.amount}: ${paid.principal} principal, ${paid.interest} interest.`);
  await schedule(form.dataset.loan);
  await customerHome();
});
for (const kind of ["deposit", "withdraw"]) {
  onSubmit(`#${kind}`, async (form) => {
    const path = kind === "deposit" ? "deposits" : "withdrawals";
    const moved = await call("POST", `/api/v1/investments/${path}`, { amount: form.amount.value });
    say(`${moved.type} of ${moved.amount} done.`);
    await investorHome();
  });
}
$("#verify").addEventListener("click", async () => {
  try {
    const report = await call("GET", "/api/v1/admin/ledger/verify");
    $("#verified").textContent = report.ok ? "ledger ok" : "ledger NOT ok";
  } catch (problem) { fail(problem); }
});
$("#renew").addEventListener("click", () => renew());
$("#logout").addEventListener("click", () => logout().catch(fail));
