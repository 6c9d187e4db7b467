/** How a notebook's model (id and ONNX SHA-256) stands against the installed models. */
export interface ModelMatch {
  status: 'ok' | 'missing' | 'hash-differs';
  /** Installed models whose ONNX file has the notebook's hash (other ids, or the same one). */
  matches: string[];
  /** What to tell the user; null when all is well. */
  message: string | null;
}

/**
 * Checks the model a notebook names. The id alone is not enough: a model folder re-exported under
 * the same id gives other numbers, so the hash decides, and models with the same hash under
 * another id are offered.
 */
export function matchNotebookModel(wanted: { id: string; sha256: string | null }, installed: readonly { id: string; sha256: string }[]): ModelMatch {
  const matches = wanted.sha256 === null ? [] : installed.filter((m) => m.sha256 === wanted.sha256).map((m) => m.id);
  const same = installed.find((m) => m.id === wanted.id);
  const offer = matches.length > 0 ? ` Models with the notebook's ONNX file (SHA-256 ${wanted.sha256?.slice(0, 12)}…): ${matches.join(', ')}.` : ' No installed model has its ONNX file.';
  if (!same) {
    return { status: 'missing', matches, message: `This notebook uses model "${wanted.id}", which is not installed.${offer}` };
  }
  if (wanted.sha256 !== null && same.sha256 !== wanted.sha256) {
    return {
      status: 'hash-differs',
      matches,
      message: `Model "${wanted.id}" is installed, but its ONNX file differs from the one this notebook was made with (SHA-256 ${same.sha256.slice(0, 12)}…, the notebook has ${wanted.sha256.slice(0, 12)}…): results may differ.${offer}`,
    };
  }
  return { status: 'ok', matches, message: null };
}
