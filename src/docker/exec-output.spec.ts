import { splitExecOutput } from './exec-output';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('splitExecOutput', () => {
  it('separates stdout and stderr frames, in order', () => {
    const frames = Buffer.concat([frame(1, '{"rules"'), frame(2, 'warn\n'), frame(1, ':[]}\n')]);
    expect(splitExecOutput(frames, 1024)).toEqual({ stdout: '{"rules":[]}\n', stderr: 'warn\n' });
  });

  it('keeps at most maxBytes of each stream', () => {
    const frames = Buffer.concat([frame(1, 'abcdef'), frame(1, 'ghi'), frame(2, 'xyz')]);
    expect(splitExecOutput(frames, 4)).toEqual({ stdout: 'abcd', stderr: 'xyz' });
  });

  it('ends at a cut header and keeps what a cut payload holds', () => {
    const whole = Buffer.concat([frame(1, 'hello'), frame(2, 'world')]);
    expect(splitExecOutput(whole.subarray(0, 13 + 4), 1024)).toEqual({ stdout: 'hello', stderr: '' });
    expect(splitExecOutput(whole.subarray(0, 13 + 8 + 2), 1024)).toEqual({ stdout: 'hello', stderr: 'wo' });
  });

  it('is empty for no frames', () => {
    expect(splitExecOutput(Buffer.alloc(0), 10)).toEqual({ stdout: '', stderr: '' });
  });
});
