/** Printing monitor events: JSON lines (spec monitor.md §2.3) or text. */
import { configToJson } from "../config.ts";
import { JsonObject, JsonValue, toCompactJson } from "../json.ts";
import type { MonitorEvent } from "./state.ts";

/** RFC 3339 UTC with milliseconds, as the schema asks. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** One JSON line, keys in the order of §2.3, with its newline. */
export function eventJson(event: MonitorEvent, seq: number, timeMs: number): string {
  const entries: [string, JsonValue][] = [
    ["v", 1],
    ["seq", seq],
    ["time", formatTime(timeMs)],
    ["event", event.event],
  ];
  const add = (key: string, value: JsonValue | undefined) => {
    if (value !== undefined) entries.push([key, value]);
  };
  add("uuid", event.uuid);
  add("parent", event.parent);
  // `type` belongs to device events, where it may be null.
  add("vf", event.vf);
  add("pf", event.pf);
  add("typeId", event.typeId);
  if (event.uuid !== undefined || event.vf !== undefined) add("type", event.type ?? null);
  add("source", event.source);
  add("config", event.config && configToJson(event.config));
  add("before", event.before && configToJson(event.before));
  add("start", event.start);
  add("defined", event.defined);
  add("types", event.types);
  add("reason", event.reason);
  add("initial", event.initial);
  add("message", event.message);
  return toCompactJson(new JsonObject(entries)) + "\n";
}

/**
 * One text line: `<time> <event> <parent>/<uuid> <type>` for device events,
 * `<time> <event> <parent>` for parent events, the reason or message for
 * the others.
 */
export function eventText(event: MonitorEvent, timeMs: number): string {
  const time = formatTime(timeMs);
  if (event.uuid !== undefined) {
    return `${time} ${event.event} ${event.parent}/${event.uuid} ${event.type ?? "(unknown)"}\n`;
  }
  if (event.vf !== undefined) {
    return `${time} ${event.event} ${event.pf}/${event.vf} ${
      event.type ?? "unnamed"
    } (id ${event.typeId})\n`;
  }
  if (event.parent !== undefined) return `${time} ${event.event} ${event.parent}\n`;
  const detail = event.reason ?? event.message;
  return `${time} ${event.event}${detail === undefined ? "" : ` ${detail}`}\n`;
}
