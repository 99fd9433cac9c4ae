import { getOperationAST, Kind, type ExecutionArgs, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { errorMetricsScope, severalMutations, type Metrics } from './metrics.js';

/** Returns the `mutation` label of an operation: its one root field's name, or `severalMutations`. */
function mutationLabel(args: ExecutionArgs): string | undefined {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== 'mutation') return undefined;
  const fields = operation.selectionSet.selections;
  const only = fields.length === 1 ? fields[0] : undefined;
  return only?.kind === Kind.FIELD ? only.name.value : severalMutations;
}

/**
 * Envelop plugin that counts validation errors, times mutation operations,
 * and runs every execution inside `errorMetricsScope`, so the typed errors
 * it resolves are counted in `metrics`. Mutation names come from the validated document, so the
 * label takes only the schema's mutation field names.
 */
export function useOperationMetrics(metrics: Metrics): Plugin {
  return {
    // Yoga sends validation errors without passing them through its error
    // masking, over HTTP and SSE as over WebSocket, so they are counted here.
    onValidate: () => ({ result }) => {
      for (const error of result) metrics.errorSent(String((error as GraphQLError).extensions?.code ?? 'GRAPHQL_VALIDATION_FAILED'));
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      setExecuteFn((executionArgs) => errorMetricsScope.run(metrics, () => executeFn(executionArgs)));
      const mutation = mutationLabel(args as ExecutionArgs);
      if (mutation === undefined) return;
      const started = performance.now();
      return {
        onExecuteDone() {
          metrics.mutationExecuted(mutation, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
