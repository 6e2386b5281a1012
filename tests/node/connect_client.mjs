// A Connect client of Rapport, as a Node team would write one: the services
// come from the descriptor set (`rapport contracts descriptors`), not from
// generated code. It ingests a purchase, finds the customer, waits for the
// score and asks for a refused one, then prints what it saw as one JSON line.
//
// Usage: RAPPORT_URL=http://127.0.0.1:50051 RAPPORT_API_KEY=rpk_... \
//        node connect_client.mjs descriptors.binpb [1.1|2]
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

const [descriptors, httpVersion = "1.1"] = process.argv.slice(2);
const registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(descriptors)),
);
const service = (name) => {
  const s = registry.getService(`rapport.v1.${name}`);
  if (!s) throw new Error(`no service ${name} in the descriptor set`);
  return s;
};
const transport = createConnectTransport({
  baseUrl: process.env.RAPPORT_URL,
  httpVersion,
  useBinaryFormat: false,
  interceptors: [
    (next) => (req) => {
      req.header.set("authorization", `Bearer ${process.env.RAPPORT_API_KEY}`);
      return next(req);
    },
  ],
});
const ingestion = createClient(service("IngestionService"), transport);
const profiles = createClient(service("ProfilesService"), transport);
const scoring = createClient(service("ScoringService"), transport);

const purchase = {
  source: "pos",
  externalId: "R-77",
  customer: { source: "pos", externalId: "N-7" },
  kind: 1, // TRANSACTION_KIND_PURCHASE
  occurredAt: timestampFromDate(new Date(Date.now() - 86_400_000)),
  currencyCode: "EUR",
  amount: { case: "amountMinor", value: 4250n },
};
const first = await ingestion.ingestTransactions({ transactions: [purchase] });
const again = await ingestion.ingestTransactions({ transactions: [purchase] });
const { customer } = await profiles.lookupCustomer({
  identity: { source: "pos", externalId: "N-7" },
});

let score;
for (let i = 0; i < 100 && !score; i++) {
  try {
    score = (await scoring.getScore({ customerId: customer.id })).score;
  } catch (e) {
    if (!(e instanceof ConnectError) || e.code !== Code.NotFound) throw e;
    await new Promise((r) => setTimeout(r, 100));
  }
}

let refused;
try {
  await scoring.getScore({ customerId: "nope" });
} catch (e) {
  refused = { code: Code[e.code], message: e.rawMessage };
}

console.log(
  JSON.stringify({
    accepted: first.accepted,
    duplicates: again.duplicates,
    customerId: customer.id,
    netSpendMinor: score?.netSpend?.minorUnits?.toString(),
    purchaseCount: score?.purchaseCount?.toString(),
    refused,
  }),
);
