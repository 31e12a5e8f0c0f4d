import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ApiResponse } from './client';

/**
 * Checks real responses against the OpenAPI document the gateway serves: the status must be one the
 * operation documents (a 5xx may fall to `default`), the content type one it names, and a JSON
 * body must satisfy the schema (OpenAPI 3.1 schemas are JSON Schema 2020-12, so ajv's 2020 dialect
 * reads them as they are).
 */

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: Json;
  tags?: Array<{ name: string }>;
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown>; responses?: Record<string, unknown> };
}

interface ResponseObject {
  description: string;
  content?: Record<string, { schema?: unknown }>;
  $ref?: string;
}

interface Operation {
  responses: Record<string, ResponseObject>;
}

const SCHEMA_REF = '#/components/schemas/';

/** `#/components/schemas/X` → `#/$defs/X`, so each compiled schema carries every named one. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' && v.startsWith(SCHEMA_REF)
          ? `#/$defs/${v.slice(SCHEMA_REF.length)}`
          : rebase(v),
      ]),
    );
  }
  return value;
}

interface PathTemplate {
  template: string;
  pattern: RegExp;
  literals: number;
}

export class ApiContract {
  private readonly ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, strictTypes: false }));
  private readonly defs: unknown;
  private readonly templates: PathTemplate[];
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Every `METHOD template status` a check has validated, to show what the run covered. */
  readonly covered = new Set<string>();

  constructor(readonly document: OpenApiDocument) {
    // OpenAPI's own annotation keywords are not JSON Schema vocabulary ajv knows.
    this.ajv.addKeyword('example');
    this.defs = rebase(document.components?.schemas ?? {});
    this.templates = Object.keys(document.paths)
      .map((template) => {
        const parts = template.split('/');
        const pattern = new RegExp(
          `^${parts.map((p) => (/^\{\w+\}$/.test(p) ? '[^/]+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`,
        );
        return { template, pattern, literals: parts.filter((p) => !p.startsWith('{')).length };
      })
      // A literal segment beats a parameter (`/api/posts/attachments/{id}` before `/api/posts/{id}/like`).
      .sort((a, b) => b.literals - a.literals);
  }

  /** The document's path template for a concrete path (the query is ignored). */
  templateOf(urlPath: string): string {
    const pathname = urlPath.split('?')[0]!;
    const found = this.templates.find((t) => t.pattern.test(pathname));
    if (!found) throw new Error(`no path of the document matches ${pathname}`);
    return found.template;
  }

  private operation(method: string, template: string): Operation {
    const op = this.document.paths[template]?.[method.toLowerCase()] as Operation | undefined;
    if (!op) throw new Error(`the document has no ${method.toUpperCase()} ${template}`);
    return op;
  }

  private resolve(response: ResponseObject): ResponseObject {
    if (!response.$ref) return response;
    const name = response.$ref.replace('#/components/responses/', '');
    const target = this.document.components?.responses?.[name] as ResponseObject | undefined;
    if (!target) throw new Error(`unresolved ${response.$ref}`);
    return target;
  }

  private validator(id: string, schema: unknown): ValidateFunction {
    let fn = this.compiled.get(id);
    if (!fn) {
      fn = this.ajv.compile({ ...(rebase(schema) as Json), $defs: this.defs });
      this.compiled.set(id, fn);
    }
    return fn;
  }

  /** Throws, naming the operation, unless the response is one the document describes. */
  check(method: string, urlPath: string, res: ApiResponse): void {
    const template = this.templateOf(urlPath);
    const op = this.operation(method, template);
    const name = `${method.toUpperCase()} ${template} → ${res.status}`;
    const statusKey = String(res.status);
    const rangeKey = `${statusKey[0]}XX`;
    const documented = op.responses[statusKey] ?? op.responses[rangeKey];
    const fallback = res.status >= 500 ? op.responses.default : undefined;
    const raw = documented ?? fallback;
    if (!raw) {
      throw new Error(
        `${name}: status not documented (documented: ${Object.keys(op.responses).join(', ')}); body ${res.text.slice(0, 300)}`,
      );
    }
    const response = this.resolve(raw);
    this.covered.add(`${method.toUpperCase()} ${template} ${documented ? statusKey : 'default'}`);

    if (!response.content) {
      if (res.text !== '')
        throw new Error(`${name}: documented without a body, got ${res.text.slice(0, 300)}`);
      return;
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const mediaType = response.content[contentType] ?? response.content['*/*'];
    if (!mediaType) {
      throw new Error(
        `${name}: content type ${contentType || '(none)'} not documented (${Object.keys(response.content).join(', ')})`,
      );
    }
    if (!contentType.endsWith('json') || mediaType.schema === undefined) return;
    if (res.body === undefined) throw new Error(`${name}: the body is not JSON: ${res.text.slice(0, 300)}`);
    const validate = this.validator(`${name} ${contentType}`, mediaType.schema);
    if (!validate(res.body)) {
      throw new Error(
        `${name}: the body does not match the document: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}\n${res.text.slice(0, 500)}`,
      );
    }
  }
}
