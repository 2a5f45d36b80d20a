import { randomUUID } from 'node:crypto';
import type { StreamPart } from './stream-part.js';

interface Slot {
  readonly outIndex: number;
  id: string | undefined;
  name: string | undefined;
  started: boolean;
  pendingArguments: string;
}

export interface ToolCallFragment {
  /** The provider's key for the call (Chat `index`, Messages content-block index). */
  readonly key: string | number;
  readonly id: string | undefined;
  readonly name: string | undefined;
  readonly argumentsDelta: string | undefined;
}

/**
 * Turns streamed tool-call fragments into tool-call-start / tool-call-delta parts with dense
 * output indexes (wire-protocol.md §6.2). The first fragment for a key normally carries id and
 * name; some providers repeat them (or send "") later, and a few reuse one index for several
 * calls, which shows up as a different id with a name. Arguments that arrive before the name are
 * held back so every delta follows its start. Ids are kept verbatim (Kimi's
 * `functions.read_file:0`, §7 item 12).
 */
export class ToolCallAssembler {
  private readonly slots = new Map<string | number, Slot>();
  private readonly ordered: Slot[] = [];

  get count(): number {
    return this.ordered.length;
  }

  push(fragment: ToolCallFragment): StreamPart[] {
    const parts: StreamPart[] = [];
    let slot = this.slots.get(fragment.key);
    const reused =
      slot !== undefined &&
      slot.started &&
      fragment.id !== undefined &&
      fragment.name !== undefined &&
      fragment.id !== slot.id;
    if (slot === undefined || reused) {
      slot = {
        outIndex: this.ordered.length,
        id: fragment.id,
        name: fragment.name,
        started: false,
        pendingArguments: '',
      };
      this.slots.set(fragment.key, slot);
      this.ordered.push(slot);
    } else {
      slot.id ??= fragment.id;
      slot.name ??= fragment.name;
    }
    if (!slot.started && slot.name !== undefined) parts.push(...this.start(slot));
    const delta = fragment.argumentsDelta;
    if (delta !== undefined && delta.length > 0) {
      if (slot.started)
        parts.push({ type: 'tool-call-delta', index: slot.outIndex, argumentsDelta: delta });
      else slot.pendingArguments += delta;
    }
    return parts;
  }

  /** Starts any call whose name never arrived, so its arguments are not lost. */
  flush(): StreamPart[] {
    const parts: StreamPart[] = [];
    for (const slot of this.ordered) if (!slot.started) parts.push(...this.start(slot));
    return parts;
  }

  private start(slot: Slot): StreamPart[] {
    slot.started = true;
    slot.id ??= `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    const parts: StreamPart[] = [
      { type: 'tool-call-start', index: slot.outIndex, id: slot.id, name: slot.name ?? '' },
    ];
    if (slot.pendingArguments.length > 0) {
      parts.push({
        type: 'tool-call-delta',
        index: slot.outIndex,
        argumentsDelta: slot.pendingArguments,
      });
      slot.pendingArguments = '';
    }
    return parts;
  }
}
