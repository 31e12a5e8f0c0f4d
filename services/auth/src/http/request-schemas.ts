import Joi from 'joi';
import type { LoginInput, RegisterInput } from '../domain/auth-service';
import { PASSWORD_MAX_BYTES } from '../domain/password';

const password = Joi.string()
  .min(6)
  .custom((value: string, helpers) => {
    // bcrypt stops at a NUL byte, which would silently shorten the password.
    if (value.includes('\u0000')) return helpers.error('password.nul');
    if (Buffer.byteLength(value, 'utf8') > PASSWORD_MAX_BYTES) return helpers.error('password.bytes');
    return value;
  })
  .messages({
    'password.bytes': `{{#label}} must be at most ${PASSWORD_MAX_BYTES} bytes (UTF-8)`,
    'password.nul': '{{#label}} must not contain NUL characters',
  });

/**
 * PostgreSQL text cannot hold NUL: a name or username carrying one would fail in the database (a
 * 500) instead of being refused here.
 */
const noNul = (schema: Joi.StringSchema): Joi.StringSchema =>
  schema
    .custom((value: string, helpers) => (value.includes('\u0000') ? helpers.error('string.nul') : value))
    .messages({ 'string.nul': '{{#label}} must not contain NUL characters' });
const username = noNul(Joi.string().trim().min(3).max(50));

export const registerSchema = Joi.object<RegisterInput>({
  name: noNul(Joi.string().trim().min(2).max(100)).required(),
  username: username.required(),
  email: noNul(
    Joi.string()
      .trim()
      .max(254)
      .email({ tlds: { allow: false } }),
  ).required(),
  password: password.required(),
  age: Joi.number().integer().min(0).max(123).allow(null),
});

export const loginSchema = Joi.object<LoginInput>({
  username: username.required(),
  password: password.required(),
});

export interface RefreshInput {
  refresh_token: string;
}

/** Only presence and type here: a malformed token is a 401 `invalid refresh token`, not a 400. */
export const refreshSchema = Joi.object<RefreshInput>({
  refresh_token: Joi.string().allow('').required(),
});

export const logoutSchema = Joi.object<Partial<RefreshInput>>({
  refresh_token: Joi.string().allow(''),
});
