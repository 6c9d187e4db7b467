import type { GraphPlan, OperatorRef } from './onnx-graph';

const domainName = (domain: string): string => domain || 'ai.onnx';

/** Refuses a graph with nodes in custom operator domains before any session is tried, naming them. */
export function checkKnownOperators(plan: GraphPlan, file: string): void {
  const unknown = plan.unknownOperators;
  if (unknown.length === 0) return;
  const list = unknown
    .slice(0, 3)
    .map((o) => `${o.opType} (domain ${domainName(o.domain)}${o.node ? `, node "${o.node}"` : ''})`)
    .join(', ');
  const more = unknown.length > 3 ? ` and ${unknown.length - 3} more` : '';
  throw new Error(
    `${file}: uses custom operator${unknown.length > 1 ? 's' : ''} ${list}${more}, which ONNX Runtime Web has no kernel for and cannot load from a library; export the model with standard ONNX operators`,
  );
}

function findOperator(plan: GraphPlan, opType: string, domain?: string): OperatorRef {
  const qualified = plan.opTypes.find((t) => (domain ? t === `${domain}.${opType}` : t === opType || t.endsWith(`.${opType}`)));
  const found = qualified && qualified !== opType ? qualified.slice(0, -opType.length - 1) : (domain ?? '');
  return { opType, domain: found, node: '' };
}

/**
 * Rewrites ONNX Runtime's session-creation error so that it names the file and, when an operator
 * has no kernel, the operator with its domain and opset version.
 */
export function explainSessionError(message: string, plan: GraphPlan, file: string, backend: string): string {
  const noKernel = /Could not find an implementation for (\w+)\((\d+)\) node with name '([^']*)'/.exec(message);
  if (noKernel) {
    const [, opType = '', version = '', node = ''] = noKernel;
    const op = findOperator(plan, opType);
    // Some com.microsoft operators exist only in the native build (a variant that uses one runs there).
    const nativeHint = backend !== 'native' && op.domain === 'com.microsoft' ? '; the native backend (the desktop app, or ntl --backend native) may run it' : '';
    return (
      `${file}: ONNX Runtime's ${backend} backend has no kernel for operator ${opType} (domain ${domainName(op.domain)}, opset ${version}` +
      `${node ? `, node "${node}"` : ''}) with the data types this graph uses, so the model cannot run here${nativeHint}`
    );
  }
  const unregistered = /([\w.]*):(\w+)\((-?\d+)\) is not a registered function\/op/.exec(message);
  if (unregistered) {
    const [, domain = '', opType = '', version = ''] = unregistered;
    const opset = Number(version) < 0 ? '' : `, opset ${version}`;
    return `${file}: ONNX Runtime's ${backend} backend does not know operator ${opType} (domain ${domainName(domain)}${opset}), so the model cannot run here`;
  }
  return `${file}: ONNX Runtime (${backend}) could not create a session: ${message}`;
}
