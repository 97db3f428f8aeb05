"""Fetches credentials with awslabs' iam-rolesanywhere-session, a second independent client of
CreateSession. Arguments come as one JSON object on argv[1]; prints the access key id and the
expiry on stdout (never the secret or the session token)."""
import json
import sys

from iam_rolesanywhere_session import IAMRolesAnywhereSession

options = json.loads(sys.argv[1])
session = IAMRolesAnywhereSession(
    profile_arn=options["profileArn"],
    role_arn=options["roleArn"],
    trust_anchor_arn=options["trustAnchorArn"],
    certificate=options["certificate"],
    private_key=options["privateKey"],
    certificate_chain=options.get("chain"),
    region=options["region"],
    endpoint=options["endpoint"],
    verify=options["caBundle"],
    session_duration=options.get("durationSeconds", 3600),
    role_session_name=options.get("roleSessionName"),
).get_session()
credentials = session.get_credentials().get_frozen_credentials()
print(json.dumps({"accessKeyId": credentials.access_key, "hasSecret": bool(credentials.secret_key), "hasToken": bool(credentials.token)}))
