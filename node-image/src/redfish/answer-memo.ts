/**
 * The last answer of one resource, kept while what it is made of is unchanged. `key` must name
 * every input that can change (for the System: the power state read live, and the boot override);
 * the rest of the resource is fixed for the life of the service (identity, hardware). A GET whose
 * key equals the last one gets the same response object back: no resource built, no JSON text, no
 * hash, and the transport reuses the bytes it wrote for it (https-server.ts). One entry per
 * resource per service, so a farm of many BMCs holds at most one answer per BMC and resource.
 */
import type { JsonObject, RedfishResponse } from './http-types';
import { resourceResponse } from './router';

export class AnswerMemo<I> {
  private lastKey: string | undefined;
  private lastAnswer: RedfishResponse | undefined;

  constructor(
    private readonly keyOf: (inputs: I) => string,
    private readonly build: (inputs: I) => JsonObject,
  ) {}

  /** The 200 answer (with its ETag) of the resource made of `inputs`. */
  answer(inputs: I): RedfishResponse {
    const key = this.keyOf(inputs);
    if (key === this.lastKey && this.lastAnswer) return this.lastAnswer;
    const answer = resourceResponse(this.build(inputs));
    this.lastKey = key;
    this.lastAnswer = answer;
    return answer;
  }
}
