import { checkVersion, runMutation } from './mutation.js';
import { EventType } from '../realtime/events.js';
import type { Transaction } from '../db/client.js';
import { lockBoard, requireRole, writableBoard } from './access.js';
import { NotFoundError } from './errors.js';
import type { Actor, Services } from './services.js';
import { Limits, requiredText } from './validate.js';

export async function createBoard(services: Services, actor: Actor, input: { workspaceId: string; name: string }) {
  const name = requiredText('input.name', input.name, Limits.name);
  const board = await runMutation(services, actor, async (tx) => {
    await requireRole(tx, actor.userId, input.workspaceId, 'MEMBER', 'create boards');
    return tx.board.create({ data: { workspaceId: input.workspaceId, name } });
  });
  services.logger.info({ boardId: board.id, workspaceId: input.workspaceId, userId: actor.userId }, 'board created');
  return board;
}

/** Locks (see lockBoard) and loads a board, whatever its archived state. */
async function boardForChange(tx: Transaction, boardId: string) {
  const locked = await lockBoard(tx, { board: boardId });
  if (!locked) throw new NotFoundError(`Board ${boardId} does not exist.`);
  const { viewerRole: _, ...board } = locked;
  return board;
}

export async function renameBoard(services: Services, actor: Actor, input: { boardId: string; name: string; expectedVersion?: number | null }) {
  const name = requiredText('input.name', input.name, Limits.name);
  return runMutation(services, actor, async (tx, append) => {
    const board = await writableBoard(tx, actor.userId, { board: input.boardId }, 'input.boardId');
    checkVersion('Board', board, input.expectedVersion);
    const updated = await tx.board.update({ where: { id: board.id }, data: { name, version: { increment: 1 } } });
    await append(board.id, EventType.BOARD_RENAMED, { name });
    return updated;
  });
}

/** Archives (or with `archived: false` restores) a board. Archived boards are read-only. Needs ADMIN. */
export async function archiveBoard(services: Services, actor: Actor, input: { boardId: string; archived: boolean; expectedVersion?: number | null }) {
  return runMutation(services, actor, async (tx, append) => {
    const board = await boardForChange(tx, input.boardId);
    await requireRole(tx, actor.userId, board.workspaceId, 'ADMIN', 'archive boards');
    checkVersion('Board', board, input.expectedVersion);
    if (board.archived === input.archived) return board;
    const updated = await tx.board.update({ where: { id: board.id }, data: { archived: input.archived, version: { increment: 1 } } });
    await append(board.id, EventType.BOARD_ARCHIVED, { archived: input.archived });
    return updated;
  });
}
