/** Response schema pieces shared by every route. */
import { ErrorResponseSchema } from '@tartarus/core';

/** Error responses every authenticated route can give (documented in the OpenAPI document). */
export const errorResponses = {
  '4xx': ErrorResponseSchema,
  '5xx': ErrorResponseSchema,
} as const;
