import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * Where the code opens gRPC channels, and whether each balances round-robin. Behind a headless
 * Service a name resolves to every ready pod; grpc-js's default policy (pick_first) would still
 * send every call down one connection, so each client must ask for round_robin in its service
 * config. A channel is found by its credentials: every `credentials.createInsecure()` or
 * `credentials.createSsl()` call must be the second argument of a client constructor whose options
 * say `'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }, ...] })`.
 */

export interface ChannelSite {
  /** file:line of the credentials call */
  at: string;
  roundRobin: boolean;
}

const propertyName = (p: ts.ObjectLiteralElementLike) =>
  p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;

/** `{ loadBalancingConfig: [{ round_robin: {} }, ...] }`: round_robin is the policy grpc-js picks. */
function firstPolicyIsRoundRobin(config: ts.Expression): boolean {
  if (!ts.isObjectLiteralExpression(config)) return false;
  const lb = config.properties.find((p) => propertyName(p) === 'loadBalancingConfig');
  if (!lb || !ts.isPropertyAssignment(lb) || !ts.isArrayLiteralExpression(lb.initializer)) return false;
  const first = lb.initializer.elements[0];
  return (
    first !== undefined &&
    ts.isObjectLiteralExpression(first) &&
    first.properties.length === 1 &&
    propertyName(first.properties[0]!) === 'round_robin'
  );
}

/** `x as const` and `(x)` stand for `x`. */
function unwrap(e: ts.Expression): ts.Expression {
  while (ts.isAsExpression(e) || ts.isParenthesizedExpression(e) || ts.isSatisfiesExpression(e))
    e = e.expression;
  return e;
}

/** The initializer of a `const name = ...` at the top of the same file (a shared options object). */
function constInitializer(name: string, sf: ts.SourceFile): ts.Expression | undefined {
  for (const statement of sf.statements) {
    if (!ts.isVariableStatement(statement) || !(statement.declarationList.flags & ts.NodeFlags.Const))
      continue;
    for (const d of statement.declarationList.declarations)
      if (ts.isIdentifier(d.name) && d.name.text === name && d.initializer) return unwrap(d.initializer);
  }
  return undefined;
}

/**
 * The `grpc.service_config` entry of a client's options: written in the object literal, or in a
 * const object of the same file spread into it (`{ ...GRPC_CLIENT_OPTIONS }`); a later entry wins.
 */
function serviceConfigOf(
  options: ts.Expression,
  sf: ts.SourceFile,
  depth = 0,
): ts.PropertyAssignment | undefined {
  const literal = unwrap(options);
  if (!ts.isObjectLiteralExpression(literal) || depth > 3) return undefined;
  let found: ts.PropertyAssignment | undefined;
  for (const p of literal.properties) {
    if (ts.isSpreadAssignment(p) && ts.isIdentifier(p.expression)) {
      const shared = constInitializer(p.expression.text, sf);
      const inner = shared && serviceConfigOf(shared, sf, depth + 1);
      if (inner) found = inner;
    } else if (propertyName(p) === 'grpc.service_config') {
      found = ts.isPropertyAssignment(p) ? p : undefined;
    }
  }
  return found;
}

function optionsBalanceRoundRobin(options: ts.Expression | undefined, sf: ts.SourceFile): boolean {
  if (!options) return false;
  const config = serviceConfigOf(options, sf);
  if (!config) return false;
  const value = config.initializer;
  return (
    ts.isCallExpression(value) &&
    value.expression.getText(sf) === 'JSON.stringify' &&
    value.arguments[0] !== undefined &&
    firstPolicyIsRoundRobin(value.arguments[0])
  );
}

/** Every channel-credentials call in `source`, with whether its client balances round-robin. */
export function channelSites(source: string, file: string): ChannelSite[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const sites: ChannelSite[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      /^(grpc\.)?credentials\.create(Insecure|Ssl)$/.test(node.expression.getText(sf))
    ) {
      const parent = node.parent;
      const isClientCredentials =
        (ts.isNewExpression(parent) || ts.isCallExpression(parent)) && parent.arguments?.[1] === node;
      sites.push({
        at: `${file}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`,
        roundRobin: isClientCredentials && optionsBalanceRoundRobin(parent.arguments?.[2], sf),
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return sites;
}

/** The non-test TypeScript sources under `dir`, recursively. */
function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourcesUnder(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Every channel the services and shared packages open. */
export function repositoryChannelSites(root: string): ChannelSite[] {
  const dirs = ['packages', 'services'].flatMap((group) =>
    readdirSync(path.join(root, group), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(root, group, e.name)),
  );
  return dirs
    .filter((d) => existsSync(path.join(d, 'src')))
    .flatMap((d) => sourcesUnder(path.join(d, 'src')))
    .flatMap((f) => {
      const source = readFileSync(f, 'utf8');
      // Only a file naming a credentials factory can hold a site; the rest need no parsing.
      return source.includes('credentials.create') ? channelSites(source, path.relative(root, f)) : [];
    });
}
