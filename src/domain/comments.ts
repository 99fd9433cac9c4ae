import { checkVersion, runMutation } from './mutation.js';
import type { Transaction } from '../db/client.js';
import { EventType } from '../realtime/events.js';
import { hasRole, requireRole } from './access.js';
import { writableCard } from './cards.js';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import type { Actor, Services } from './services.js';
import { Limits, requiredText } from './validate.js';

/** Locks the comment's board (see writableBoard), then loads the comment and its card. */
async function writableComment(tx: Transaction, actor: Actor, commentId: string) {
  const located = await tx.comment.findUnique({ where: { id: commentId }, select: { cardId: true } });
  if (!located) throw new NotFoundError(`Comment ${commentId} does not exist.`);
  const { card, board } = await writableCard(tx, actor, located.cardId, 'input.commentId');
  const comment = await tx.comment.findUnique({ where: { id: commentId } });
  if (!comment) throw new NotFoundError(`Comment ${commentId} does not exist.`);
  return { comment, card, board };
}

export async function addComment(services: Services, actor: Actor, input: { cardId: string; body: string }) {
  const body = requiredText('input.body', input.body, Limits.commentBody);
  return runMutation(services, actor, async (tx, append) => {
    const { card } = await writableCard(tx, actor, input.cardId, 'input.cardId');
    if (card.archived) throw new ValidationError('input.cardId', 'The card is archived; unarchive it before commenting.');
    const comment = await tx.comment.create({ data: { cardId: card.id, authorId: actor.userId, body } });
    await append(card.boardId, EventType.COMMENT_ADDED, { commentId: comment.id, cardId: card.id });
    return comment;
  });
}

/** Only the author may edit a comment. */
export async function editComment(services: Services, actor: Actor, input: { commentId: string; body: string; expectedVersion?: number | null }) {
  const body = requiredText('input.body', input.body, Limits.commentBody);
  return runMutation(services, actor, async (tx, append) => {
    const { comment, card } = await writableComment(tx, actor, input.commentId);
    if (comment.authorId !== actor.userId) throw new ForbiddenError('Only the author can edit a comment.');
    if (card.archived) throw new ValidationError('input.commentId', "The comment's card is archived; unarchive it before changing its comments.");
    checkVersion('Comment', comment, input.expectedVersion);
    const updated = await tx.comment.update({ where: { id: comment.id }, data: { body, editedAt: new Date(), version: { increment: 1 } } });
    await append(card.boardId, EventType.COMMENT_EDITED, { commentId: comment.id, cardId: card.id });
    return updated;
  });
}

/** Deletes a comment; allowed to its author and to the workspace's ADMINs and OWNERs. */
export async function deleteComment(services: Services, actor: Actor, input: { commentId: string }) {
  return runMutation(services, actor, async (tx, append) => {
    const { comment, card, board } = await writableComment(tx, actor, input.commentId);
    if (card.archived) throw new ValidationError('input.commentId', "The comment's card is archived; unarchive it before changing its comments.");
    if (comment.authorId !== actor.userId) {
      const membership = await requireRole(tx, actor.userId, board.workspaceId, 'MEMBER', 'delete comments');
      if (!hasRole(membership.role, 'ADMIN')) throw new ForbiddenError("Only the author or an ADMIN can delete someone else's comment.");
    }
    await tx.comment.delete({ where: { id: comment.id } });
    await append(card.boardId, EventType.COMMENT_DELETED, { commentId: comment.id, cardId: card.id });
    return comment;
  });
}
