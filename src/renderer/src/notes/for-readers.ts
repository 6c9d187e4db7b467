/**
 * One of the project's documents as a reader of the app sees it: the passages marked
 * `<!-- for developers --> … <!-- end -->` (source paths, which file does what) are left out.
 * GitHub hides the markers, so the file reads whole there.
 */
export function forReaders(text: string): string {
  return text.replace(/<!-- for developers -->[\s\S]*?<!-- end -->/g, '');
}
