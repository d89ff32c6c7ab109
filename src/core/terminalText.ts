// Text a client printed to a terminal, made plain. Claude Code 2.1.332 prints URLs as OSC 8
// hyperlinks (`ESC ] 8 ; params ; URI ST` + label + `ESC ] 8 ; ; ST`, the label being the URL
// again); 2.1.197 printed the bare URL. Read as text, the escape glues the URL to itself, so
// anything that reads a client's output (a URL, a version, a list) strips these first.

// ST is BEL or ESC \ (both are in use). Control characters are the point of these patterns.
// eslint-disable-next-line no-control-regex
const OSC = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
// CSI (colours, cursor moves): ESC [ params final-byte.
// eslint-disable-next-line no-control-regex
const CSI = /\u001b\[[0-?]*[ -/]*[@-~]/g;

/** `text` without OSC sequences (hyperlinks keep their label) and CSI sequences. */
export function plainTerminalText(text: string): string {
  return text.replace(OSC, '').replace(CSI, '');
}
