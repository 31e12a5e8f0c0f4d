import type Joi from 'joi';
import { validationFailed } from '@mpb/errors';

/** Validates input at the edge of a service; unknown keys are stripped, never stored. */
export function validate<T>(schema: Joi.Schema<T>, input: unknown): T {
  const { value, error } = schema.validate(input, { abortEarly: true, stripUnknown: true, convert: true });
  if (error) {
    const detail = error.details[0];
    throw validationFailed(error.message.replace(/"/g, ''), {
      details: detail ? { field: detail.path.join('.'), rule: detail.type } : undefined,
    });
  }
  return value;
}
