import type { PageRequest } from '@mpb/service-kit';

/** Limits of a post's fields, checked by the HTTP layer's body schemas. */
export const TITLE_MIN = 3;
export const TITLE_MAX = 200;
export const DESCRIPTION_MIN = 10;
/** The old API had no upper bound; 20 000 characters is a long article and keeps rows small. */
export const DESCRIPTION_MAX = 20_000;
export const TAG_MAX = 50;

/** Single-line fields (title, tag) refuse every control character, NUL and line breaks included. */
export const CONTROL_CHARACTERS = /\p{Cc}/u;

/** A new post's fields, as the service stores them. */
export interface NewPostInput {
  title: string;
  description: string;
  tag: string | null;
}

/** Fields to change; a missing key keeps the stored value. */
export interface PostChanges {
  title?: string;
  description?: string;
  tag?: string | null;
}

/** The filters of `GET /api/posts`. */
export interface ListFilters {
  tag?: string;
  userId?: number;
}

/** One page of the filtered list (the page comes from the service kit's parsePageRequest). */
export type ListQuery = PageRequest & ListFilters;
