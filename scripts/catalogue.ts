/**
 * The event catalogue, built from the code: the `defineEvent` definitions and subscriptions the
 * bus itself loads (`loadRegistry()`), the workflows of every registered domain (workers/domains.ts), and the source
 * text of those files for what the runtime objects cannot say (TSDoc of a definition, the `when`
 * filter of a subscription, the comment above it). Renders `docs/asyncapi.yaml`, the subscriber
 * tables between `<!-- generated:NAME:start -->` / `<!-- generated:NAME:end -->` markers in the
 * docs, and the release snapshot of the event schemas. Everything is sorted, so regenerating
 * unchanged code is byte-identical; `scripts/generate-catalogue.ts` writes the files and
 * test/catalogue.test.ts fails when they are stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import YAML from 'yaml';
import { z } from 'zod';
import { loadRegistry, type Registry } from '../workers/registry';
import { bundledWorkflows } from '../workers/workflow-bundle';
import type { EventEnvelope, Subscription } from '../workflows/bus/contract';
import type { JsonSchema } from './event-compat';

/** The repository root. */
export const REPO_ROOT = path.resolve(__dirname, '..');
const WORKFLOWS_DIR = path.join(REPO_ROOT, 'workflows');

/** The command that regenerates every file below; failures tell the developer to run it. */
export const GENERATE_COMMAND = 'npm run catalogue:generate';

/** One subscription, as the catalogue shows it. */
export interface CatalogueSubscription {
  name: string;
  eventType: string;
  domain: string;
  workflowType: string;
  taskQueue: string;
  /** start: starts the entity workflow if it never ran (and signals a running one); signal: only signals. */
  delivery: 'start' | 'signal';
  reopen: boolean;
  scope: 'order' | 'customer';
  /** The workflow id with each field it reads shown as `<field>`; null when the function is not a plain template. */
  workflowId: string | null;
  /** Source text of the `when` filter, or null when it takes every event. */
  when: string | null;
  /** The `//` comment right above the subscription in its subscriptions.ts. */
  note: string | null;
}

/** One event type, as the catalogue shows it. */
export interface CatalogueEvent {
  type: string;
  domain: string;
  /** The TSDoc of its `defineEvent` export. */
  description: string | null;
  /** Where the definition the bus validates with is declared (repo-relative). */
  definedIn: string;
  /** JSON Schema (draft-07) of `data`, from `z.toJSONSchema`. */
  dataSchema: JsonSchema;
  subscriptions: CatalogueSubscription[];
}

/** A workflow type and the domain folder that exports it in workflows/index.ts. */
export interface CatalogueWorkflow {
  workflowType: string;
  domain: string;
}

/** Everything the generated files are rendered from. */
export interface Catalogue {
  version: string;
  events: CatalogueEvent[];
  workflows: CatalogueWorkflow[];
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();
const relative = (file: string): string => path.relative(REPO_ROOT, file).split(path.sep).join('/');

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}

const isCallTo = (node: ts.Node, name: string): node is ts.CallExpression =>
  ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name;

function literalText(node: ts.Node | undefined): string | undefined {
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;
}

function property(object: ts.ObjectLiteralExpression, name: string): ts.ObjectLiteralElementLike | undefined {
  return object.properties.find((p) => p.name !== undefined && ts.isIdentifier(p.name) && p.name.text === name);
}

function domainFiles(base: RegExp): string[] {
  const files: string[] = [];
  for (const dir of fs.readdirSync(WORKFLOWS_DIR, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const file of fs.readdirSync(path.join(WORKFLOWS_DIR, dir.name))) if (base.test(file)) files.push(path.join(WORKFLOWS_DIR, dir.name, file));
  }
  return files.sort(byString);
}

interface DefinitionSource {
  file: string;
  exportName: string;
  type: string;
  description: string | null;
}

/** Every `export const X = defineEvent('type', …)` under workflows/, with its TSDoc. */
function definitionSources(): DefinitionSource[] {
  const found: DefinitionSource[] = [];
  for (const file of domainFiles(/contract\.ts$/)) {
    walk(parse(file), (node) => {
      if (!ts.isVariableDeclaration(node) || !ts.isIdentifier(node.name) || !node.initializer || !isCallTo(node.initializer, 'defineEvent')) return;
      const type = literalText(node.initializer.arguments[0]);
      if (type === undefined) return;
      const doc = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc).pop();
      const text = doc ? ts.getTextOfJSDocComment(doc.comment) : undefined;
      found.push({ file, exportName: node.name.text, type, description: text ? oneLine(text) : null });
    });
  }
  return found;
}

interface SubscriptionSource {
  when: string | null;
  note: string | null;
}

/**
 * The `when` filter and the comment above each `subscribe(…, { name: '…' })` of a subscriptions
 * file, and each handler-table entry `on(event, handler, { name: '…' })` (workflows/bus/handlers.ts),
 * whose name is a literal.
 */
function subscriptionSources(): Map<string, SubscriptionSource> {
  const found = new Map<string, SubscriptionSource>();
  for (const file of domainFiles(/(subscriptions|-events)\.ts$/)) {
    const source = parse(file);
    const text = source.getFullText();
    walk(source, (node) => {
      const spec = isCallTo(node, 'subscribe') ? node.arguments[1] : isCallTo(node, 'on') ? node.arguments[2] : undefined;
      if (!spec || !ts.isObjectLiteralExpression(spec)) return;
      const nameProp = property(spec, 'name');
      const name = nameProp && ts.isPropertyAssignment(nameProp) ? literalText(nameProp.initializer) : undefined;
      if (name === undefined) return;
      const whenProp = property(spec, 'when');
      let when: string | null = null;
      if (whenProp && ts.isPropertyAssignment(whenProp) && ts.isArrowFunction(whenProp.initializer)) when = oneLine(whenProp.initializer.body.getText(source));
      else if (whenProp) when = oneLine(whenProp.getText(source));
      const comments = (ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [])
        .filter((c) => c.kind === ts.SyntaxKind.SingleLineCommentTrivia)
        .map((c) => text.slice(c.pos + 2, c.end).trim());
      found.set(name, { when, note: comments.length > 0 ? oneLine(comments.join(' ')) : null });
    });
  }
  return found;
}

/** Every registered domain's workflows (workers/domains.ts; each folder's index exports them): workflow type and domain. */
function workflowSources(): CatalogueWorkflow[] {
  const workflows: CatalogueWorkflow[] = bundledWorkflows().map(({ workflowType, domain }) => ({ workflowType, domain }));
  return workflows.sort((a, b) => byString(a.domain, b.domain) || byString(a.workflowType, b.workflowType));
}

/**
 * The workflow id a subscription computes, with every envelope or data field it reads replaced
 * by `<field>`: the id functions are templates over business ids, so running one on placeholders
 * shows its pattern. Anything else (a field of a field, a computation that throws) is not a
 * pattern, and is shown as such rather than guessed.
 */
export function workflowIdPattern(subscription: Subscription): string | null {
  const placeholder = (field: string | symbol) => (typeof field === 'string' ? `<${field}>` : undefined);
  const data = new Proxy({}, { get: (_target, field) => placeholder(field) });
  const event = new Proxy({}, { get: (_target, field) => (field === 'data' ? data : placeholder(field)) });
  try {
    const id: unknown = subscription.workflowId(event as EventEnvelope);
    return typeof id === 'string' && !id.includes('undefined') && !id.includes('[object') ? id : null;
  } catch {
    return null;
  }
}

/** JSON Schema (draft-07) of an event's data, as the catalogue and the release snapshots hold it. */
export function dataSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-7' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** Builds the catalogue from the registry the bus delivers with (default: the one the workers load). */
export function buildCatalogue(registry: Registry = loadRegistry()): Catalogue {
  const version = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const definitions = definitionSources();
  const subscriptionSource = subscriptionSources();

  const subscriptions = registry.subscriptions.map((s): CatalogueSubscription => {
    const source = subscriptionSource.get(s.name);
    // The runtime object and the source text must agree, or the docs would show a filter the bus does not apply (or hide one it does).
    if (Boolean(s.when) !== Boolean(source?.when)) {
      throw new Error(`${s.name}: cannot find the source of its when filter (its name must be a string literal in subscribe(…, { name: '…' }))`);
    }
    return {
      name: s.name,
      eventType: s.event.type,
      domain: s.domain,
      workflowType: s.workflowType,
      taskQueue: s.taskQueue,
      delivery: s.start ? 'start' : 'signal',
      reopen: Boolean(s.start && s.reopen),
      scope: s.scope ?? 'order',
      workflowId: workflowIdPattern(s),
      when: source?.when ?? null,
      note: source?.note ?? null,
    };
  });

  const events = [...registry.events.values()].map((def): CatalogueEvent => {
    // A type may be declared twice (a reader's copy); the bus validates with the registry's, so that one is documented.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module the registry loaded, to tell which export is its definition
    const source = definitions.find((d) => d.type === def.type && (require(d.file) as Record<string, unknown>)[d.exportName] === def);
    if (!source)
      throw new Error(`${def.type}: no \`export const … = defineEvent('${def.type}', …)\` under workflows/*/contract.ts is the registry's definition`);
    return {
      type: def.type,
      domain: def.domain,
      description: source.description,
      definedIn: relative(source.file),
      dataSchema: dataSchema(def.schema),
      subscriptions: subscriptions.filter((s) => s.eventType === def.type).sort((a, b) => byString(a.name, b.name)),
    };
  });
  for (const s of subscriptions) if (!registry.events.has(s.eventType)) throw new Error(`${s.name} subscribes to ${s.eventType}, which no contract.ts defines`);

  return { version, events: events.sort((a, b) => byString(a.type, b.type)), workflows: workflowSources() };
}

// --- docs/asyncapi.yaml ---------------------------------------------------------------------

/** The envelope's fields (workflows/bus/contract.ts `EventEnvelope`, set by `publish()` in workflows/bus/publish.ts). */
function envelopeSchema(event: CatalogueEvent): JsonSchema {
  return {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'Deterministic, built from business ids (never random): a reset that republishes the event reproduces it.' },
      type: { type: 'string', const: event.type },
      occurredAt: { type: 'string', format: 'date-time', description: 'Workflow time of publication.' },
      correlationId: { type: 'string', description: 'The order id (the customer or period for member- and period-level flows): one timeline per box.' },
      causationId: { type: ['string', 'null'], description: 'Id of the event that caused this one; null for a root event.' },
      source: { $ref: '#/components/schemas/EventSource' },
      data: event.dataSchema,
    },
    required: ['id', 'type', 'occurredAt', 'correlationId', 'causationId', 'source', 'data'],
    additionalProperties: false,
  };
}

const EVENT_SOURCE_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'The publishing workflow: enough to open it in the Temporal Web UI.',
  properties: {
    domain: { type: 'string', description: 'The domain that owns the event type.' },
    workflowId: { type: 'string' },
    runId: { type: 'string' },
  },
  required: ['domain', 'workflowId', 'runId'],
  additionalProperties: false,
};

function subscriptionSummary(s: CatalogueSubscription): string {
  const verb = s.delivery === 'start' ? (s.reopen ? 'starts (or reopens)' : 'starts') : 'signals';
  return `${s.domain} ${verb} ${s.workflowType}${s.workflowId ? ` ${s.workflowId}` : ''} on task queue ${s.taskQueue}`;
}

/** The AsyncAPI 3.0 document of every event, as YAML. */
export function renderAsyncApi(catalogue: Catalogue): string {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const event of catalogue.events) {
    const channelRef = { $ref: `#/channels/${event.type}` };
    const messageRef = { $ref: `#/channels/${event.type}/messages/${event.type}` };
    channels[event.type] = {
      address: event.type,
      title: event.type,
      ...(event.description ? { description: event.description } : {}),
      messages: { [event.type]: { $ref: `#/components/messages/${event.type}` } },
    };
    messages[event.type] = {
      name: event.type,
      title: event.type,
      ...(event.description ? { summary: event.description } : {}),
      contentType: 'application/json',
      correlationId: { $ref: '#/components/correlationIds/correlationId' },
      payload: envelopeSchema(event),
      'x-defined-in': event.definedIn,
    };
    operations[`publish.${event.type}`] = {
      action: 'send',
      title: `${event.domain} publishes ${event.type}`,
      channel: channelRef,
      messages: [messageRef],
      'x-publisher': { domain: event.domain },
    };
    for (const s of event.subscriptions) {
      operations[s.name] = {
        action: 'receive',
        title: s.name,
        summary: subscriptionSummary(s),
        ...(s.note ? { description: s.note } : {}),
        channel: channelRef,
        messages: [messageRef],
        'x-subscriber': {
          domain: s.domain,
          taskQueue: s.taskQueue,
          workflowType: s.workflowType,
          delivery: s.delivery,
          reopen: s.reopen,
          workflowId: s.workflowId,
          when: s.when,
          scope: s.scope,
        },
      };
    }
  }
  const document = {
    asyncapi: '3.0.0',
    info: {
      title: 'closetflow events',
      version: catalogue.version,
      description: [
        'Every event closetflow publishes and every subscription that reacts to it. There is no broker:',
        'a publishing workflow records the event in events.event_log and delivers it itself, starting',
        'the subscriber workflow as a child (delivery: start) or sending it the closetflow.event signal',
        '(delivery: signal). A channel is an event type; its send operation names the publishing domain,',
        'its receive operations the subscriptions (x-subscriber: domain, task queue, workflow type and id).',
        `Generated from workflows/*/contract.ts and workflows/*/subscriptions.ts by \`${GENERATE_COMMAND}\`.`,
      ].join(' '),
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      schemas: { EventSource: EVENT_SOURCE_SCHEMA },
      messages,
      correlationIds: {
        correlationId: { description: "The box's order id (or the customer or period): groups one timeline.", location: '$message.payload#/correlationId' },
      },
    },
  };
  const header = `# Generated by \`${GENERATE_COMMAND}\` from workflows/*/contract.ts and workflows/*/subscriptions.ts: edit those, not this file.\n`;
  return header + YAML.stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
}

// --- Markdown tables ------------------------------------------------------------------------

/** Inline code for a Markdown table cell: pipes escaped, and a fence longer than any backtick run inside. */
function code(text: string): string {
  const escaped = text.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(escaped.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return longest > 0 ? `${fence} ${escaped} ${fence}` : `${fence}${escaped}${fence}`;
}
const cell = (text: string): string => text.replace(/\|/g, '\\|');
const mode = (s: CatalogueSubscription): string => (s.delivery === 'start' ? (s.reopen ? 'start (reopen)' : 'start') : 'signal');
const entity = (s: CatalogueSubscription): string => `${code(s.workflowType)} ${s.workflowId ? code(s.workflowId) : '(id computed)'}`;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const NOTICE = `<!-- generated by \`${GENERATE_COMMAND}\` from workflows/*/contract.ts and subscriptions.ts: edit those, not this table -->`;

/** README "The domains and their events": per domain, what it runs, publishes and listens to. */
export function renderDomainTable(catalogue: Catalogue): string {
  const subscriptions = catalogue.events.flatMap((e) => e.subscriptions);
  const domains = [
    ...new Set([...catalogue.events.map((e) => e.domain), ...subscriptions.map((s) => s.domain), ...catalogue.workflows.map((w) => w.domain)]),
  ].sort(byString);
  const rows = domains.map((domain) => {
    const own = subscriptions.filter((s) => s.domain === domain);
    const queues = [...new Set(own.map((s) => s.taskQueue))].sort(byString);
    const workflows = catalogue.workflows
      .filter((w) => w.domain === domain)
      .map((w) => {
        const ids = [...new Set(own.filter((s) => s.workflowType === w.workflowType).map((s) => s.workflowId ?? 'id computed'))].sort(byString);
        return ids.length > 0 ? `${code(w.workflowType)} (${ids.map(code).join(', ')})` : code(w.workflowType);
      });
    const publishes = catalogue.events.filter((e) => e.domain === domain).map((e) => code(e.type));
    const listens = [...new Set(own.map((s) => s.eventType))].sort(byString).map(code);
    const list = (items: string[]) => (items.length > 0 ? items.join(', ') : '—');
    return [domain, list(queues.map(code)), list(workflows), list(publishes), list(listens)];
  });
  return [NOTICE, table(['domain', 'task queue', 'workflows (id when an event reaches it)', 'publishes', 'listens to'], rows)].join('\n');
}

function subscriberRows(catalogue: Catalogue, columns: (s: CatalogueSubscription) => string[], empty: string[]): string[][] {
  return catalogue.events.flatMap((event) => {
    const first = `${code(event.type)} (${event.domain})`;
    if (event.subscriptions.length === 0) return [[first, ...empty]];
    return event.subscriptions.map((s, i) => [i === 0 ? first : '', ...columns(s)]);
  });
}

/** docs/architecture.md "Who listens to what": one row per subscription. */
export function renderSubscriptionTable(catalogue: Catalogue): string {
  const rows = subscriberRows(catalogue, (s) => [code(s.name), entity(s), mode(s), s.when ? code(s.when) : ''], ['— (no subscriber)', '', '', '']);
  return [NOTICE, table(['event (publisher)', 'subscriber (name)', 'entity workflow (id)', 'mode', 'only when'], rows)].join('\n');
}

/** docs/events.md: one row per subscription, with its task queue and the code's comment on it. */
export function renderSubscriberCatalogue(catalogue: Catalogue): string {
  const rows = subscriberRows(catalogue, (s) => [code(s.name), entity(s), code(s.taskQueue), mode(s), s.when ? code(s.when) : '', s.note ? cell(s.note) : ''], [
    '— (timeline and audit only)',
    '',
    '',
    '',
    '',
    '',
  ]);
  return [NOTICE, table(['event (publisher)', 'subscriber', 'workflow (id)', 'task queue', 'mode', 'only when', 'why (from subscriptions.ts)'], rows)].join(
    '\n',
  );
}

/** Replaces what is between `<!-- generated:NAME:start -->` and `<!-- generated:NAME:end -->`, leaving the rest of the file as it is. */
export function replaceBlock(markdown: string, name: string, content: string, file: string): string {
  const start = `<!-- generated:${name}:start -->`;
  const end = `<!-- generated:${name}:end -->`;
  const from = markdown.indexOf(start);
  const to = markdown.indexOf(end);
  if (from < 0 || to < from || markdown.indexOf(start, from + 1) >= 0) throw new Error(`${file} needs exactly one ${start} … ${end} block`);
  return `${markdown.slice(0, from + start.length)}\n${content}\n${markdown.slice(to)}`;
}

// --- Release snapshots ----------------------------------------------------------------------

/** Where release snapshots of the event schemas live (`v<version>.json`). */
export const SNAPSHOT_DIR = 'docs/event-schemas';

/** A release's event schemas: event type → JSON Schema of its data. */
export interface SchemaSnapshot {
  version: string;
  events: Record<string, JsonSchema>;
}

/** Event type → JSON Schema of its data, today. */
export function currentSchemas(catalogue: Catalogue): Record<string, JsonSchema> {
  return Object.fromEntries(catalogue.events.map((e) => [e.type, e.dataSchema]));
}

/** The snapshot file of this version, as the generator writes it. */
export function renderSnapshot(catalogue: Catalogue): string {
  const snapshot: SchemaSnapshot = { version: catalogue.version, events: currentSchemas(catalogue) };
  return `${JSON.stringify(snapshot, null, 2)}\n`;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** The newest release snapshot in docs/event-schemas/, or undefined when none was taken. */
export function latestSnapshot(root: string = REPO_ROOT): (SchemaSnapshot & { file: string }) | undefined {
  const dir = path.join(root, SNAPSHOT_DIR);
  if (!fs.existsSync(dir)) return undefined;
  const versions = fs
    .readdirSync(dir)
    .map((f) => f.match(/^v(\d+\.\d+\.\d+)\.json$/)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort(compareVersions);
  const version = versions.pop();
  if (!version) return undefined;
  const file = `${SNAPSHOT_DIR}/v${version}.json`;
  return { ...(JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as SchemaSnapshot), file };
}

// --- The generated files --------------------------------------------------------------------

/** One file the generator owns (wholly, or the named blocks in it). */
export interface GeneratedFile {
  /** Repo-relative path. */
  file: string;
  /** The file as it should be, given what is on disk now (blocks are spliced into the current text). */
  render(current: string | undefined): string;
}

/** The files `npm run catalogue:generate` writes (the release snapshot only with `--snapshot`). */
export function generatedFiles(catalogue: Catalogue): GeneratedFile[] {
  const blocks = (name: string, content: string, file: string): GeneratedFile => ({
    file,
    render: (current) => {
      if (current === undefined) throw new Error(`${file} is missing`);
      return replaceBlock(current, name, content, file);
    },
  });
  return [
    { file: 'docs/asyncapi.yaml', render: () => renderAsyncApi(catalogue) },
    blocks('domains', renderDomainTable(catalogue), 'README.md'),
    blocks('subscriptions', renderSubscriptionTable(catalogue), 'docs/architecture.md'),
    blocks('subscriptions', renderSubscriberCatalogue(catalogue), 'docs/events.md'),
  ];
}

/** Reads a repo file, or undefined when it does not exist. */
export function readRepoFile(file: string, root: string = REPO_ROOT): string | undefined {
  const full = path.join(root, file);
  return fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : undefined;
}

/** The generated files whose content on disk (as `read` returns it) is not what the code generates, with the first line that differs. */
export function staleFiles(catalogue: Catalogue, read: (file: string) => string | undefined = readRepoFile): string[] {
  const stale: string[] = [];
  for (const generated of generatedFiles(catalogue)) {
    const current = read(generated.file);
    const expected = generated.render(current);
    if (current === expected) continue;
    const have = (current ?? '').split('\n');
    const want = expected.split('\n');
    let line = 0;
    while (line < want.length && have[line] === want[line]) line++;
    stale.push(
      `${generated.file} is not what the code generates (line ${line + 1}: expected ${JSON.stringify(want[line] ?? '<end of file>')}); run \`${GENERATE_COMMAND}\``,
    );
  }
  return stale;
}
