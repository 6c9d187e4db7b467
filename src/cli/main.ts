import { errorMessage } from '../common/error-message';
import { COMMAND_OPTIONS, UsageError, isCommand, parseCommand } from './args';
import { attentionCommand, contextCommand, predictCommand, surprisalCommand, tokenizeCommand } from './commands';
import type { CommandOutput } from './command-output';
import { importCommand, modelsCommand } from './model-commands';
import { compareCommand, generateCommand } from './sampling-commands';
import { runCommand } from './run-notebook';
import { isRemoteModel, remoteGenerateCommand, remotePredictCommand, remoteSurprisalCommand, remoteTokenizeCommand } from './remote-commands';
import { serveOpenAiCommand } from './serve-openai';
import { remoteCompareCommand } from './remote-compare';

const USAGE = `usage: ntl <command> [options]

commands:
  models                                    the models found
  import    FOLDER                          check a model folder and copy it into your models folder
  tokenize  --prompt P                      the prompt's tokens
  predict   --prompt P [--top K] [--temperature T] [--ablate-head L:H ...]
            (--ablate-head: switch off head H of layer L, 0-based, repeatable; shows before and after)
  attention --prompt P [--layer L] [--head H]
  generate  --prompt P [--strategy greedy|temperature|top-k|top-p|beam] [--seed N]
            [--max-tokens M] [--stop STRING] [sampler options]
  compare   --spec FILE.json                columns of decoders side by side
  context   --a TEXT --b TEXT [--word W]    one word in two prompts, compared layer by layer
  surprisal --prompt P [--top K]            each prompt token's probability and rank, and the K expected there
  run       NOTEBOOK.ntl.json [--out RESULTS.json]
  serve-openai [--port N] [--model ID|FILE.gguf ...]  the models over the OpenAI-compatible API on 127.0.0.1
            (/v1/models, /v1/completions with logprobs, echo, seed, stream, stop; /tokenize)

sampler options (docs/sampling.md):
  --repetition-penalty R --frequency-penalty F --presence-penalty P --penalty-last-n N
  --dry-multiplier M --dry-base B --dry-allowed-length L --dry-last-n N
  --temperature T --top-k K --top-p P --min-p P --typical-p P --top-n-sigma N
  --xtc-threshold T --xtc-probability P --epsilon-cutoff E --eta-cutoff E
  --mirostat-tau T --mirostat-eta E --order stage,stage,...
  --beam-width W --length-penalty A (with --strategy beam)

every command: --model <id or folder> (default seed-world), --variant fp32|fp16|quantized|int8|uint8|q4|q4f16|bnb4
  (which ONNX file of the folder: model.onnx, model_fp16.onnx, ...; full precision first), --json
model-running commands: --backend native|wasm (default native where it loads), --threads N (default by model size)
served models (tokenize, predict, generate, surprisal, compare, run): --model remote:NAME --base-url URL [--timeout S]
  (run: a notebook saved on a served model keeps its URL and model name; --base-url overrides the URL)
  (an OpenAI-compatible completions server: vLLM, llama.cpp, ...; the key comes from NTL_API_KEY)
a GGUF file: --model path/to/file.gguf runs it on llama.cpp (tokenize, predict, generate, compare; --threads N)`;

/** What a model served elsewhere can do. */
const REMOTE_COMMANDS: readonly string[] = ['tokenize', 'predict', 'generate', 'surprisal', 'compare', 'run'];

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}"; commands: ${Object.keys(COMMAND_OPTIONS).join(', ')}`);
  // Before the options are parsed, so `ntl attention --model remote:X --base-url U` names the real cause.
  const namesRemote = args.some((arg, i) => arg.startsWith('--model=remote:') || (arg === '--model' && args[i + 1]?.startsWith('remote:') === true));
  if (namesRemote && !REMOTE_COMMANDS.includes(command)) {
    throw new UsageError(`${command}: not for a remote model (a server shows tokens, top-K predictions, generation, comparisons and surprisal only)`);
  }
  const parsed = parseCommand(command, args);
  if (parsed.values['help'] === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let output: CommandOutput;
  let failed = 0;
  const remote = isRemoteModel(parsed.values);
  for (const flag of ['base-url', 'timeout']) {
    if (!remote && command !== 'run' && parsed.values[flag] !== undefined) throw new UsageError(`--${flag}: only with --model remote:NAME`);
  }
  switch (command) {
    case 'models':
      output = await modelsCommand();
      break;
    case 'import':
      output = await importCommand(parsed);
      break;
    case 'tokenize':
      output = remote ? await remoteTokenizeCommand(parsed.values) : await tokenizeCommand(parsed.values);
      break;
    case 'predict':
      output = remote ? await remotePredictCommand(parsed.values) : await predictCommand(parsed.values);
      break;
    case 'surprisal':
      output = remote ? await remoteSurprisalCommand(parsed.values) : await surprisalCommand(parsed.values);
      break;
    case 'serve-openai':
      await serveOpenAiCommand(parsed.values);
      return 0;
    case 'attention':
      output = await attentionCommand(parsed.values);
      break;
    case 'context':
      output = await contextCommand(parsed.values);
      break;
    case 'generate':
      output = remote ? await remoteGenerateCommand(parsed.values) : await generateCommand(parsed.values);
      break;
    case 'compare':
      output = remote ? await remoteCompareCommand(parsed.values) : await compareCommand(parsed.values);
      break;
    case 'run': {
      const result = await runCommand(parsed);
      output = result;
      failed = result.failed;
      break;
    }
  }
  // Every result says which engine computed it: the model that ran (ONNX here, or a server).
  const json = output.json !== null && typeof output.json === 'object' && !Array.isArray(output.json) ? { source: output.source, ...output.json } : output.json;
  process.stdout.write(parsed.values['json'] === true ? `${JSON.stringify(json)}\n` : `${output.text}\n`);
  if (failed > 0) {
    process.stderr.write(`ntl: ${failed} cell${failed === 1 ? '' : 's'} failed (see their "error")\n`);
    return 1;
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (cause) {
  const message = errorMessage(cause);
  process.stderr.write(`ntl: ${message.split('\n')[0] ?? message}\n`);
  process.exitCode = cause instanceof UsageError ? 2 : 1;
}
