/** The notebook file named in the page address (`#nb=<file>`), so a reload reopens it. */
export function fileFromHash(): string | null {
  const match = /^#nb=(.+)$/.exec(location.hash);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/** Names `file` in the page address (none: no file yet), without a new history entry. */
export function setHash(file: string | null): void {
  const hash = file === null ? '' : `#nb=${encodeURIComponent(file)}`;
  if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}
