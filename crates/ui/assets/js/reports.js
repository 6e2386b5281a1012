// The report runs behind the Overview and Reports pages (ReportsService):
// the latest report, the runs over time, and starting a run and following it
// to the end.

import { ApiError, call, requestId } from "./api.js";
import { h } from "./dom.js";
import { count, dateTime } from "./format.js";

const POLL_MS = 1000;

/** The tenant's runs, newest first (the first `max`). */
export async function runs(max = 50) {
  const page = await call("ReportsService", "ListReports", { pageSize: max });
  return page.runs ?? [];
}

export const isDone = (run) => run?.state === "REPORT_RUN_STATE_SUCCEEDED";
export const isActive = (run) =>
  run?.state === "REPORT_RUN_STATE_QUEUED" || run?.state === "REPORT_RUN_STATE_RUNNING";

/**
 * The latest report that succeeded ({ run, report }), or null when there is
 * none. Asks GetReport only when the runs show one, so an empty tenant costs
 * no refused call.
 */
export async function latest(known) {
  const list = known ?? (await runs());
  if (!list.some(isDone)) return null;
  try {
    return await call("ReportsService", "GetReport", {});
  } catch (e) {
    if (e instanceof ApiError && e.code === "not_found") return null;
    throw e;
  }
}

/** One run with its report once it has succeeded. */
export function get(runId) {
  return call("ReportsService", "GetReport", { runId });
}

/** What a run is doing, in words. */
export function describeRun(run) {
  const done = Number(run.customersDone ?? 0);
  const expected = Number(run.customersExpected ?? 0);
  switch (run.state) {
    case "REPORT_RUN_STATE_QUEUED":
      return `Queued at ${dateTime(run.queuedAt)}; waiting for the worker.`;
    case "REPORT_RUN_STATE_RUNNING":
      return `Running: ${count(done)} of ${count(expected)} customers.`;
    case "REPORT_RUN_STATE_SUCCEEDED":
      return `Report updated: figures as of ${dateTime(run.startedAt ?? run.finishedAt)}.`;
    case "REPORT_RUN_STATE_FAILED":
      return `The run failed: ${run.error || "no reason given"}.`;
    default:
      return "";
  }
}

/**
 * A "Refresh report" button with the run's progress beside it. Starts a run
 * (or follows one already queued or running: `active`), polls it, and calls
 * `onDone` with the GetReport answer once it has succeeded.
 */
export function refreshControl(onDone, active = null, notice = "") {
  const status = h("p", { class: "run-status", role: "status", "aria-live": "polite", "data-run-status": "" }, notice);
  const progress = h("progress", { max: "1", value: "0", hidden: true, "aria-label": "Report run progress" });
  const button = h("button", { type: "button", class: "primary", "data-action": "refresh-report" }, "Refresh report");
  const box = h("div", { class: "run-control" }, button, progress, status);

  const follow = async (runId) => {
    button.disabled = true;
    progress.hidden = false;
    try {
      for (;;) {
        if (!box.isConnected) return;
        const answer = await get(runId);
        const run = answer.run ?? {};
        status.textContent = describeRun(run);
        progress.max = Math.max(1, Number(run.customersExpected ?? 0));
        progress.value = Number(run.customersDone ?? 0);
        if (isDone(run)) {
          progress.value = progress.max;
          onDone(answer);
          return;
        }
        if (run.state === "REPORT_RUN_STATE_FAILED") return;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } catch (e) {
      status.textContent = e instanceof ApiError ? e.describe() : String(e);
    } finally {
      button.disabled = false;
      progress.hidden = true;
    }
  };

  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Starting a run…";
    try {
      const answer = await call("ReportsService", "StartReport", { requestId: requestId() });
      if (!answer.started) status.textContent = "A run was already queued or running: following it.";
      await follow(answer.run.runId);
    } catch (e) {
      status.textContent = e instanceof ApiError ? e.describe() : String(e);
      button.disabled = false;
    }
  });
  if (active) follow(active.runId);
  return box;
}
