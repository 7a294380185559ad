"""Makes a throwaway NATS decentralised-auth setup for tests: an operator, an account and a
user, as signed JWTs, plus the user's .creds file and the server configuration lines that trust
the operator and preload the account.

Usage: python make_nats_creds.py DIRECTORY [NAME]
Writes DIRECTORY/NAME.creds and DIRECTORY/NAME-server.conf (operator mode, memory resolver).
Needs the `nkeys` package (installed into .venv by scripts/bootstrap).
"""
import base64
import hashlib
import json
import os
import sys
import time

import nkeys


def keypair(prefix):
    seed = nkeys.encode_seed(os.urandom(32), prefix)
    return nkeys.from_seed(seed), seed


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims, signer):
    header = b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}, separators=(",", ":")).encode())
    claims = dict(claims)
    claims["jti"] = base64.b32encode(hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).digest()).decode().rstrip("=")
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = signer.sign(f"{header}.{payload}".encode())
    return f"{header}.{payload}.{b64(signature)}"


def main(directory, name):
    operator, _ = keypair(nkeys.PREFIX_BYTE_OPERATOR)
    account, _ = keypair(nkeys.PREFIX_BYTE_ACCOUNT)
    system, _ = keypair(nkeys.PREFIX_BYTE_ACCOUNT)
    user, user_seed = keypair(nkeys.PREFIX_BYTE_USER)
    now = int(time.time())
    op_pub = operator.public_key.decode()
    acc_pub = account.public_key.decode()
    sys_pub = system.public_key.decode()
    user_pub = user.public_key.decode()
    operator_jwt = jwt({"iat": now, "iss": op_pub, "sub": op_pub, "name": "test-operator", "nats": {"type": "operator", "version": 2, "system_account": sys_pub}}, operator)
    limits = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": True, "conn": -1, "leaf": -1,
              "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}
    account_jwt = jwt({"iat": now, "iss": op_pub, "sub": acc_pub, "name": "test-account", "nats": {"limits": limits, "type": "account", "version": 2}}, operator)
    system_jwt = jwt({"iat": now, "iss": op_pub, "sub": sys_pub, "name": "SYS", "nats": {"limits": {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": True, "conn": -1, "leaf": -1}, "type": "account", "version": 2}}, operator)
    user_jwt = jwt({"iat": now, "iss": acc_pub, "sub": user_pub, "name": name, "nats": {"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1, "type": "user", "version": 2}}, account)
    creds = (
        "-----BEGIN NATS USER JWT-----\n" + user_jwt + "\n------END NATS USER JWT------\n\n"
        "************************* IMPORTANT *************************\n"
        "NKEY Seed printed below can be used to sign and prove identity.\n\n"
        "-----BEGIN USER NKEY SEED-----\n" + user_seed.decode() + "\n------END USER NKEY SEED------\n"
    )
    with open(os.path.join(directory, f"{name}.creds"), "w") as handle:
        handle.write(creds)
    with open(os.path.join(directory, f"{name}-server.conf"), "w") as handle:
        handle.write(
            f"operator: {operator_jwt}\nsystem_account: {sys_pub}\nresolver: MEMORY\n"
            f"resolver_preload: {{\n  {acc_pub}: {account_jwt}\n  {sys_pub}: {system_jwt}\n}}\n"
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "user")
