"""Who may call each operation, and which resources it may touch (docs/security-policy.md).

Every operation of every service in the robot client's API models (``models.json``) has one
:class:`Rule` in :data:`POLICY`; a test fails when the models gain one without a rule. The
dispatcher consults the rule after identifying the caller and before the handler: a caller of
another kind gets 403 ``AccessDeniedException`` (an unsigned caller gets
``MissingAuthenticationTokenException``, as AWS answers). The rule's ``scope`` says what the
handler then checks:

- ``none``: no household data (update records, placeholders, the caller's own log uploads);
- ``own``: only the caller's own account/robot/loops, found from the caller, never from input;
- ``named``: the input names a household resource (a ``loopId``, a robot ``id``, media
  ``paths``, a key request ``id``, account ``ids``); the handler answers 403 unless it is the
  caller's (its loops, its account, the robots of its account).

Unhandled operations (:mod:`jibo_cloud.rest.generic`) follow the same table: writes are denied
unless a rule allows them; reads answer placeholders to an authenticated robot or owner only.
The original services behind most of them (Facebook, OOBE pairing, e-mail codes …) are gone,
and nothing a stranger sends should be stored, so they are denied to everyone.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from jibo_cloud.rest.context import KINDS, NOBODY, OPERATOR, OWNER, ROBOT

Who = frozenset[str]

ANYONE: Who = frozenset(KINDS)
R: Who = frozenset({ROBOT})
RO: Who = frozenset({ROBOT, OWNER})
ROP: Who = frozenset({ROBOT, OWNER, OPERATOR})
P: Who = frozenset({OPERATOR})
NO_ONE: Who = frozenset()

SCOPES = ("none", "own", "named")


@attrs.frozen
class Rule:
    who: Who
    #: Whether the operation changes stored state (generic.py stores the input only then).
    write: bool
    scope: str = attrs.field(validator=attrs.validators.in_(SCOPES))
    #: One line for the documentation: which resources, and why this principal.
    note: str = ""


def _read(who: Who, scope: str, note: str = "") -> Rule:
    return Rule(who, False, scope, note)


def _write(who: Who, scope: str, note: str = "") -> Rule:
    return Rule(who, True, scope, note)


def _gone(note: str = "the original service is gone; nothing here implements it") -> Rule:
    return Rule(NO_ONE, True, "none", note)


_ACCOUNT = "Account_20151111"
_LOOP = "Loop_20160324"

#: Target (``Prefix.WireName``) → rule. Model-key aliases resolve to the wire name first.
POLICY: Mapping[str, Rule] = {
    # ---------------------------------------------------------------- Account
    f"{_ACCOUNT}.AcceptTerms": _write(RO, "own", "the caller's own account"),
    f"{_ACCOUNT}.ActivateByCode": _gone("no e-mail activation on this server"),
    f"{_ACCOUNT}.ActivateById": _gone("no e-mail activation on this server"),
    f"{_ACCOUNT}.ChangeEmail": _gone("change the e-mail with Account.Update"),
    f"{_ACCOUNT}.ChangePassword": _gone("passwords are not changed over REST yet"),
    f"{_ACCOUNT}.CheckEmail": _read(ROP, "none", "authenticated only: no e-mail enumeration"),
    f"{_ACCOUNT}.ConfirmEmailReset": _gone("no e-mail codes on this server"),
    f"{_ACCOUNT}.Create": _write(P, "none", "accounts are created by the operator"),
    f"{_ACCOUNT}.CreateAccessToken": _write(R, "own", "a hub token for the caller's robot"),
    f"{_ACCOUNT}.CreateHubToken": _write(R, "own", "a hub token for the caller's robot"),
    f"{_ACCOUNT}.FacebookConnect": _gone(),
    f"{_ACCOUNT}.FacebookMobileConnect": _gone(),
    f"{_ACCOUNT}.FacebookPrepareLogin": _gone(),
    f"{_ACCOUNT}.Get": _read(RO, "named", "ids: only the caller's own account"),
    f"{_ACCOUNT}.GetAccountByAccessToken": _gone(),
    f"{_ACCOUNT}.Login": _write(ANYONE, "none", "the password is the credential (rate-limited)"),
    f"{_ACCOUNT}.PasswordResetByCode": _gone("no e-mail codes on this server"),
    f"{_ACCOUNT}.Remove": _gone("accounts are removed by the operator"),
    f"{_ACCOUNT}.RemovePhoto": _gone("account photos are not kept"),
    f"{_ACCOUNT}.ResendActivationCode": _gone("no e-mail activation on this server"),
    f"{_ACCOUNT}.ResetEmail": _gone("no e-mail codes on this server"),
    f"{_ACCOUNT}.ResetKeys": _gone("keys are managed by the operator"),
    f"{_ACCOUNT}.Search": _read(P, "none", "searching accounts is an operator's act"),
    f"{_ACCOUNT}.SendPasswordReset": _gone("no e-mail codes on this server"),
    f"{_ACCOUNT}.SendPhoneVerificationCode": _gone("no SMS on this server"),
    f"{_ACCOUNT}.Update": _write(RO, "own", "the caller's own account"),
    f"{_ACCOUNT}.UpdatePhoto": _gone("account photos are not kept"),
    f"{_ACCOUNT}.VerifyPhoneByCode": _gone("no SMS on this server"),
    # ---------------------------------------------------------------- Backup
    "Backup_20170222.List": _read(RO, "named", "loopId: one of the caller's loops"),
    "Backup_20170222.New": _write(RO, "named", "loopId: one of the caller's loops"),
    # ---------------------------------------------------------------- placeholders
    "Collision_20161126.Match": _read(RO, "none", "placeholder answer"),
    "GQA_20160930.ListAttribution": _read(RO, "none", "placeholder answer"),
    "GQA_20160930.Question": _read(RO, "none", "placeholder answer, nothing stored"),
    "IFTTT_20170207.Action": _gone(),
    "IFTTT_20170207.DeleteIdentity": _gone(),
    "IFTTT_20170207.ListActions": _read(RO, "none", "placeholder answer"),
    "IFTTT_20170207.ListMedia": _read(RO, "none", "placeholder answer"),
    "IFTTT_20170207.ListTriggers": _read(RO, "none", "placeholder answer"),
    "IFTTT_20170207.Trigger": _gone(),
    "IFTTT_20170207.UserInfo": _read(RO, "none", "placeholder answer"),
    # ---------------------------------------------------------------- Key
    "Key_20160201.Backup": _write(RO, "named", "loopId: one of the caller's loops"),
    "Key_20160201.CreateRequest": _write(RO, "named", "loopId: one of the caller's loops"),
    "Key_20160201.GetRequest": _read(RO, "named", "id: a request of one of the caller's loops"),
    "Key_20160201.ListBinaryRequests": _read(RO, "named", "loopId: one of the caller's loops"),
    "Key_20160201.ListIncomingRequests": _read(RO, "named", "loopId: one of the caller's loops"),
    "Key_20160201.Restore": _read(RO, "named", "loopId: one of the caller's loops"),
    "Key_20160201.Share": _write(RO, "named", "id: a request of one of the caller's loops"),
    "Key_20160201.ShareBinary": _write(RO, "named", "id: a request of one of the caller's loops"),
    "Key_20160201.ShouldCreate": _read(RO, "named", "loopId: one of the caller's loops"),
    # ---------------------------------------------------------------- Log
    "Log_20150309.NewKinesisCredentials": _read(R, "none", "placeholder answer"),
    "Log_20150309.PutAsrBinary": _write(R, "own", "an upload slot of the caller's household"),
    "Log_20150309.PutBinary": _write(R, "own", "an upload of the caller's household"),
    "Log_20150309.PutBinaryAsync": _write(R, "own", "an upload slot of the caller's household"),
    "Log_20150309.PutEvents": _write(R, "own", "an upload of the caller's household"),
    "Log_20150309.PutEventsAsync": _write(R, "own", "an upload slot of the caller's household"),
    "Log_20150309.SetLevel": _gone("log levels are set by the operator on the server"),
    # ---------------------------------------------------------------- Loop
    f"{_LOOP}.AcceptLoopInvitation": _gone("invitations are answered by the operator"),
    f"{_LOOP}.ClearRobot": _gone("robots are removed by the operator (robot CLI)"),
    f"{_LOOP}.CreateLoop": _write(RO, "named", "robotId: a robot of the caller's account"),
    f"{_LOOP}.DeclineLoopInvitation": _gone("invitations are answered by the operator"),
    f"{_LOOP}.FindOwner": _read(RO, "none", "placeholder answer"),
    f"{_LOOP}.GetRobot": _read(RO, "named", "loopId: one of the caller's loops (placeholder)"),
    f"{_LOOP}.InviteLoopMember": _write(RO, "named", "loopId: one of the caller's loops"),
    f"{_LOOP}.ListLoopMembers": _read(RO, "own", "members of the caller's loops"),
    f"{_LOOP}.ListLoops": _read(RO, "own", "the caller's loops"),
    f"{_LOOP}.ListOwnerRobots": _read(RO, "none", "placeholder answer"),
    f"{_LOOP}.RemoveLoop": _gone("loops are removed by the operator"),
    f"{_LOOP}.RemoveLoopMember": _write(RO, "named", "loopId: one of the caller's loops"),
    f"{_LOOP}.RemoveMemberPhoto": _gone("member photos are not kept"),
    f"{_LOOP}.SetEnrollment": _write(RO, "named", "loopId: one of the caller's loops (stored)"),
    f"{_LOOP}.SetLegalGuardian": _gone(),
    f"{_LOOP}.SuspendLoop": _write(RO, "named", "loopId: one of the caller's loops"),
    f"{_LOOP}.SuspendRobotLoop": _gone("robots are suspended by the operator"),
    f"{_LOOP}.UpdateAgreementStatus": _gone(),
    f"{_LOOP}.UpdateLoop": _write(RO, "named", "loopId: one of the caller's loops"),
    f"{_LOOP}.UpdateLoopMember": _gone("members are edited by the operator"),
    f"{_LOOP}.UpdateMemberPhoto": _gone("member photos are not kept"),
    f"{_LOOP}.UpdateNickname": _gone("members are edited by the operator"),
    f"{_LOOP}.UpdatePhoneticName": _gone("members are edited by the operator"),
    # ---------------------------------------------------------------- Lps, Media, NLP
    "Lps_20171201.NewCredentials": _gone(),
    "Media_20160725.Create": _write(
        RO, "named", "loopId: one of the caller's loops; path: new, or already that household's"
    ),
    "Media_20160725.Get": _read(RO, "named", "paths: media of the caller's loops"),
    "Media_20160725.List": _read(RO, "named", "loopIds: the caller's loops"),
    "Media_20160725.Remove": _write(RO, "named", "paths: media of the caller's loops"),
    "Media_20160725.RemoveAllMediaFromLoop": _gone("media are removed one by one (Remove)"),
    "NLP_20161031.NamedEntityRecognition": _read(R, "none", "placeholder answer"),
    "NLP_20161031.PartOfSpeech": _read(R, "none", "placeholder answer"),
    # ---------------------------------------------------------------- Notification
    "Notification_20150505.GetStatus": _read(RO, "named", "accountId: the caller's account"),
    "Notification_20150505.NewRobotToken": _write(R, "named", "deviceId: the caller's robot"),
    # ---------------------------------------------------------------- OOBE, OauthClients
    "OOBE_20161026.GetServiceToken": _gone("robots are set up by the operator (robot add)"),
    "OOBE_20161026.GetStatus": _gone("robots are set up by the operator (robot add)"),
    "OOBE_20161026.PrepareRobot": _gone("robots are set up by the operator (robot add)"),
    "OOBE_20161026.ReconnectRobot": _gone("robots are set up by the operator (robot add)"),
    "OOBE_20161026.SetupRobot": _gone("robots are set up by the operator (robot add)"),
    "OauthClients_20171108.Create": _write(P, "none", "an admin service"),
    "OauthClients_20171108.ListClients": _read(P, "none", "an admin service"),
    "OauthClients_20171108.Remove": _write(P, "none", "an admin service"),
    "OauthClients_20171108.Update": _write(P, "none", "an admin service"),
    # ---------------------------------------------------------------- Person
    "Person_20160801.Answer": _gone(),
    "Person_20160801.DisableHolidays": _write(RO, "named", "loopId: one of the caller's loops"),
    "Person_20160801.EnableHolidays": _write(RO, "named", "loopId: one of the caller's loops"),
    "Person_20160801.GetAccountProperties": _read(RO, "own", "the caller's account"),
    "Person_20160801.GetLoopProperties": _read(RO, "named", "loopId: one of the caller's loops"),
    "Person_20160801.List": _read(RO, "none", "placeholder answer"),
    "Person_20160801.ListAccountPropertyKeys": _read(RO, "own", "the caller's account"),
    "Person_20160801.ListHolidays": _read(RO, "named", "loopId: one of the caller's loops"),
    "Person_20160801.SetAccountProperty": _write(RO, "own", "the caller's account"),
    "Person_20160801.SetLoopProperty": _write(RO, "named", "loopId: one of the caller's loops"),
    # ---------------------------------------------------------------- Push, ROM
    "Push_20160729.CreateDevice": _gone("no push notifications to phones"),
    "Push_20160729.RemoveDevice": _gone("no push notifications to phones"),
    "ROM_20171011.Create": _gone(),
    "ROM_20171011.SetupClient": _gone(),
    "ROM_20171011.SetupServer": _gone(),
    # ---------------------------------------------------------------- Robot
    "Robot_20160225.CalibrateRobot": _gone("calibration is a factory step"),
    "Robot_20160225.CreateRobot": _write(P, "none", "robots are registered by the operator"),
    "Robot_20160225.CreateRobotBatch": _write(P, "none", "robots are registered by the operator"),
    "Robot_20160225.GetCalibrationData": _read(RO, "named", "id: a robot of the caller's account"),
    "Robot_20160225.GetFriendlyIds": _read(P, "none", "a factory/admin service"),
    "Robot_20160225.GetRobot": _read(RO, "named", "id: a robot of the caller's account"),
    "Robot_20160225.GetRobotHistory": _read(RO, "named", "id: a robot of the caller's account"),
    "Robot_20160225.RemoveRobot": _write(P, "none", "robots are removed by the operator"),
    "Robot_20160225.UpdateRobot": _write(RO, "named", "id: a robot of the caller's account"),
    # ---------------------------------------------------------------- Settings
    "Settings_20171219.DeleteSettings": _write(RO, "named", "loopId: one of the caller's loops"),
    "Settings_20171219.GetDataForSettings": _read(RO, "named", "loopId: one of the caller's loops"),
    "Settings_20171219.GetSettings": _read(RO, "named", "loopId: one of the caller's loops"),
    "Settings_20171219.UpdateSettings": _write(RO, "named", "loopId: one of the caller's loops"),
    # ---------------------------------------------------------------- Update
    "Update_20160301.CreateUpdate": _write(P, "none", "publishing software is the operator's"),
    "Update_20160301.GetUpdateFrom": _read(ROP, "none", "published updates (shared)"),
    "Update_20160301.ListTargets": _read(P, "none", "an admin service (placeholder)"),
    "Update_20160301.ListUniqueFilters": _read(P, "none", "an admin service (placeholder)"),
    "Update_20160301.ListUpdates": _read(ROP, "none", "published updates (shared)"),
    "Update_20160301.ListUpdatesFrom": _read(ROP, "none", "published updates (shared)"),
    "Update_20160301.RemoveUpdate": _write(P, "none", "removing software is the operator's"),
    "Update_20160301.SetTarget": _gone("update targets are set by the operator"),
}

#: Why a caller is refused, by kind (the AWS error message).
_NOT_FOR = {
    NOBODY: "this operation needs a signed request",
    ROBOT: "robots may not call this operation",
    OWNER: "account owners may not call this operation",
    OPERATOR: "the operator may not call this operation",
}


def rule_for(target: str) -> Rule | None:
    """The rule of a wire target (``Prefix.Name``), or None if the table lacks it."""
    return POLICY.get(target)


def refusal(rule: Rule | None, kind: str) -> str | None:
    """Why ``kind`` may not call an operation with ``rule`` (None: it may).

    An operation without a rule is refused to everyone: a new model operation stays closed
    until someone decides who may call it.
    """
    if rule is None:
        return "this operation has no access rule on this server"
    if kind in rule.who:
        return None
    if not rule.who:
        return "this operation is not offered by this server"
    return _NOT_FOR.get(kind, "this caller may not call this operation")
