
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "BoardEvent": [
      "BoardArchivedEvent",
      "BoardRenamedEvent",
      "CardArchivedEvent",
      "CardAssignedEvent",
      "CardCreatedEvent",
      "CardMovedEvent",
      "CardUnassignedEvent",
      "CardUpdatedEvent",
      "ColumnCreatedEvent",
      "ColumnDeletedEvent",
      "ColumnMovedEvent",
      "ColumnRenamedEvent",
      "CommentAddedEvent",
      "CommentDeletedEvent",
      "CommentEditedEvent",
      "MemberAddedEvent",
      "MemberRemovedEvent",
      "MemberRoleChangedEvent"
    ],
    "ConflictSubject": [
      "Board",
      "Card",
      "Column",
      "Comment"
    ],
    "Error": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationAddCommentResult": [
      "Comment",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationAddMemberResult": [
      "ConflictError",
      "ForbiddenError",
      "Membership",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationArchiveBoardResult": [
      "Board",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationArchiveCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationAssignCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationChangeMemberRoleResult": [
      "ConflictError",
      "ForbiddenError",
      "Membership",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationCreateBoardResult": [
      "Board",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationCreateCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationCreateColumnResult": [
      "Column",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationCreateWorkspaceResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError",
      "Workspace"
    ],
    "MutationDeleteColumnResult": [
      "ConflictError",
      "DeletedColumn",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationDeleteCommentResult": [
      "ConflictError",
      "DeletedComment",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationEditCommentResult": [
      "Comment",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationMoveCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationMoveColumnResult": [
      "Column",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationRefreshSessionResult": [
      "AuthPayload",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationRemoveMemberResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "RemovedMember",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationRenameBoardResult": [
      "Board",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationRenameColumnResult": [
      "Column",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationSetFocusResult": [
      "ConflictError",
      "ForbiddenError",
      "MutationSetFocusSuccess",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationSignInResult": [
      "AuthPayload",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationSignOutResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "SignOutPayload",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationSignUpResult": [
      "AuthPayload",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationUnassignCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationUpdateCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "Node": [
      "Board",
      "Card",
      "Column",
      "Comment",
      "Membership",
      "User",
      "Workspace"
    ],
    "PresenceEvent": [
      "PresenceFocusChanged",
      "PresenceJoined",
      "PresenceLeft",
      "PresenceSnapshot"
    ],
    "QueryBoardResult": [
      "Board",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "QueryMeResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "User",
      "ValidationError"
    ],
    "QueryWorkspaceResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError",
      "Workspace"
    ]
  }
};
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "BoardEvent": [
      "BoardArchivedEvent",
      "BoardRenamedEvent",
      "CardArchivedEvent",
      "CardAssignedEvent",
      "CardCreatedEvent",
      "CardMovedEvent",
      "CardUnassignedEvent",
      "CardUpdatedEvent",
      "ColumnCreatedEvent",
      "ColumnDeletedEvent",
      "ColumnMovedEvent",
      "ColumnRenamedEvent",
      "CommentAddedEvent",
      "CommentDeletedEvent",
      "CommentEditedEvent",
      "MemberAddedEvent",
      "MemberRemovedEvent",
      "MemberRoleChangedEvent"
    ],
    "ConflictSubject": [
      "Board",
      "Card",
      "Column",
      "Comment"
    ],
    "Error": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationAddCommentResult": [
      "Comment",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationAddMemberResult": [
      "ConflictError",
      "ForbiddenError",
      "Membership",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationArchiveBoardResult": [
      "Board",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationArchiveCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationAssignCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationChangeMemberRoleResult": [
      "ConflictError",
      "ForbiddenError",
      "Membership",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationCreateBoardResult": [
      "Board",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationCreateCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationCreateColumnResult": [
      "Column",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationCreateWorkspaceResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError",
      "Workspace"
    ],
    "MutationDeleteColumnResult": [
      "ConflictError",
      "DeletedColumn",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationDeleteCommentResult": [
      "ConflictError",
      "DeletedComment",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationEditCommentResult": [
      "Comment",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationMoveCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationMoveColumnResult": [
      "Column",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationRefreshSessionResult": [
      "AuthPayload",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationRemoveMemberResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "RemovedMember",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationRenameBoardResult": [
      "Board",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationRenameColumnResult": [
      "Column",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationSetFocusResult": [
      "ConflictError",
      "ForbiddenError",
      "MutationSetFocusSuccess",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationSignInResult": [
      "AuthPayload",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationSignOutResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "SignOutPayload",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationSignUpResult": [
      "AuthPayload",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationUnassignCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "MutationUpdateCardResult": [
      "Card",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "Node": [
      "Board",
      "Card",
      "Column",
      "Comment",
      "Membership",
      "User",
      "Workspace"
    ],
    "PresenceEvent": [
      "PresenceFocusChanged",
      "PresenceJoined",
      "PresenceLeft",
      "PresenceSnapshot"
    ],
    "QueryBoardResult": [
      "Board",
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError"
    ],
    "QueryMeResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "User",
      "ValidationError"
    ],
    "QueryWorkspaceResult": [
      "ConflictError",
      "ForbiddenError",
      "NotFoundError",
      "UnauthenticatedError",
      "ValidationError",
      "Workspace"
    ]
  }
};
      export default result;
    