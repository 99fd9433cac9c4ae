import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLDateTime } from './scalars.js';
import type PrismaTypes from '../db/generated/pothos-types.js';
import { getDatamodel } from '../db/generated/pothos-types.js';
import { errorMetricsScope } from '../observability/metrics.js';
import { ConflictError, DomainError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../domain/errors.js';
import type { Context } from './context.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  Scalars: { DateTime: { Input: Date; Output: Date } };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
}>({
  plugins: [ErrorsPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // An id that is not a global id is the client's mistake, not a server fault.
    decodeGlobalID: (globalID) => {
      try {
        return decodeGlobalID(globalID);
      } catch {
        throw new ValidationError('id', `${JSON.stringify(globalID)} is not a valid id; use an id returned by this API.`);
      }
    },
  },
  errors: {
    directResult: true,
    defaultTypes: [ValidationError, NotFoundError, ForbiddenError, UnauthenticatedError, ConflictError],
    // The schema is shared by every server in the process, so the server's metrics come from the scope it runs executions in.
    onResolvedError: (error) => {
      if (error instanceof DomainError) errorMetricsScope.getStore()?.errorSent(error.code);
    },
  },
});

builder.addScalarType('DateTime', GraphQLDateTime);
builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
