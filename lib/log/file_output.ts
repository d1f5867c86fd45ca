/**
 * An `error_log` file, through LogTape's own `@logtape/file` sink.
 * @module
 */

import { getFileSink } from "@logtape/file";
import type { LogRecord, Sink } from "@logtape/logtape";
import { BatchWriter } from "./batch_writer.ts";
import { dispose, errorText, type Output } from "./output.ts";

/**
 * A file through @logtape/file, fed in 5 ms batches like stderr (one record per batch,
 * already formatted): one write per batch, and its fsync runs off the event loop
 * (`nonBlocking`). Reopening swaps in a sink on the path and closes the old one.
 * `format` is read per line: a reload may switch between text and JSON.
 */
export function openFileOutput(
  path: string,
  format: () => (record: LogRecord) => string,
  complain: (text: string) => void,
): Output {
  const open = () =>
    getFileSink(path, {
      nonBlocking: true,
      bufferSize: 0,
      formatter: (record) => record.message[0] as string,
    });
  let file: Sink = open();
  const batches = new BatchWriter({ deliver: (text) => file(batchRecord(text)) });
  return {
    sink: (record) => batches.write(format()(record)),
    // Formatted here, before the sink returns; the file sink only sees the batch's own record.
    immediate: true,
    flush: () => batches.flush(),
    reopen: () => {
      batches.flush();
      let next: Sink;
      try {
        next = open();
      } catch (err) {
        complain(`cannot reopen ${path}: ${errorText(err)}; still writing to the old file`);
        return;
      }
      const old = file;
      file = next;
      void dispose(old);
    },
    close: async () => {
      batches.flush();
      await dispose(file);
    },
  };
}

/** One record carrying an already formatted batch of lines (for the file sink's formatter). */
function batchRecord(text: string): LogRecord {
  return {
    category: ["mailproxy"],
    level: "info",
    message: [text],
    rawMessage: text,
    timestamp: Date.now(),
    properties: {},
  } as LogRecord;
}
