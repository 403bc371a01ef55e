"""The README.txt of an evidence package: how to check it by hand and with the verifier."""

from __future__ import annotations

__all__ = ["readme_text"]

_TEMPLATE = """\
dualrec 存证包 / dualrec evidence package
=========================================

对象 / subject: {subject_type} {subject_id}
文件数 / files: {files}
签名算法 / signature algorithm: {algorithm}

一、用校验程序验证（推荐）
    dualrec evidence verify 本文件.zip
    或 / or:  python -m dualrec.cli.evidence verify 本文件.zip [--public-key 机构公钥.pem]
  校验程序离线运行（不需要服务器、数据库或配置），逐项列出通过与失败的检查，
  全部通过时退出码为 0。请用机构另行公布的公钥（--public-key）核对包内公钥。

二、手工验证
  1. 文件完整性：解压后在包根目录执行
         sha256sum -c SHA256SUMS
     每个文件都应显示 OK。SHA256SUMS 与 manifest.json 中的哈希应一致。
  2. 文件与存证记录：manifest.json 中每个文件的 event_seq 指向 ledger/events.json 中的一条记录，
     该记录 payload 中的 sha256 与 size 必须与文件相同。
  3. 记录哈希链：每条记录的 hash = SHA-256( prev_hash 的 64 位十六进制文本 ‖ 记录正文的规范 JSON )，
     规范 JSON 为 {{seq, subject_type, subject_id, kind, payload, at, subject_prev_hash}}
     按键名排序、无空格、UTF-8 编码。本对象的第一条记录 subject_prev_hash 为 64 个 0，
     之后每条记录的 subject_prev_hash 等于前一条记录的 hash。
  4. 检查点签名（Ed25519）：
         openssl pkeyutl -verify -pubin -inkey keys/public_key.pem -rawin \\
             -in ledger/checkpoint.payload -sigfile ledger/checkpoint.sig
     ledger/checkpoint.payload 是 ledger/checkpoint.json 中 payload 的规范 JSON 字节。
  5. Merkle 证明（RFC 6962）：ledger/proofs.json 中每条记录的路径可从其 hash 算出检查点中的
     merkle_root（叶 = SHA-256(0x00 ‖ hash 字节)，节点 = SHA-256(0x01 ‖ 左 ‖ 右)）。
  6. ledger/statement.json 由机构签名，固定了本包的记录序号、最后一条记录的 hash，以及
     包内其他所有文档（清单、记录、证明、检查点、公钥、本说明）的 SHA-256（可用 sha256sum 核对），
     因此删除、重排或替换记录、修改清单都会被发现。

1. Verify with the verifier (recommended)
    dualrec evidence verify THIS.zip
    or:  python -m dualrec.cli.evidence verify THIS.zip [--public-key institution.pem]
  It runs offline (no server, database or settings), lists every check that passed or failed, and
  exits with 0 only when all pass. Compare the key inside the package with the institution's
  published public key (--public-key).

2. Verify by hand
  1. Files: unzip, then in the package root run  sha256sum -c SHA256SUMS  — every line must say OK;
     SHA256SUMS and manifest.json must list the same hashes.
  2. Files vs ledger: each manifest entry's event_seq names an event in ledger/events.json whose
     payload has the same sha256 and size.
  3. Hash chain: hash = SHA-256(prev_hash as 64 hex characters ‖ canonical JSON of
     {{seq, subject_type, subject_id, kind, payload, at, subject_prev_hash}}) — sorted keys, no spaces,
     UTF-8. The subject's first event has subject_prev_hash = 64 zeros; each later one carries the
     hash of the event before it.
  4. Checkpoint signature (Ed25519):
         openssl pkeyutl -verify -pubin -inkey keys/public_key.pem -rawin \\
             -in ledger/checkpoint.payload -sigfile ledger/checkpoint.sig
  5. Merkle proofs (RFC 6962): each path in ledger/proofs.json leads from the event's hash to the
     checkpoint's merkle_root (leaf = SHA-256(0x00 ‖ hash bytes), node = SHA-256(0x01 ‖ left ‖ right)).
  6. ledger/statement.json, signed by the institution, fixes the event numbers, the last event's
     hash and the SHA-256 of every other document of the package (manifest, events, proofs,
     checkpoint, public key, this README; check them with sha256sum): dropping, reordering or
     replacing events, or editing the manifest, is detected.
"""


def readme_text(subject_type: str, subject_id: str, algorithm: str, files: int) -> str:
    return _TEMPLATE.format(
        subject_type=subject_type, subject_id=subject_id, algorithm=algorithm, files=files
    )
