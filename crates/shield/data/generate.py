#!/usr/bin/env python3
# Test-data generator for the `shield` crate (secret detection + lookalike domains).
#
# Produces, next to this script (UTF-8, LF line endings):
#   secrets.jsonl    - customer messages that each contain exactly one secret
#                      (BIP39 seed phrases, hex private keys, WIF, xprv/yprv/zprv/tprv,
#                      Ethereum keystore v3 JSON); one JSON object per line:
#                      {"kind", "lang", "text", "secret"[, "form"]}
#   benign.txt       - ordinary support messages (one per line) that must NOT be flagged
#   lookalikes.txt   - dnstwist permutations of the official domains:
#                      official<TAB>fuzzer<TAB>permutation, sorted
#   README.md        - what the files are, versions, counts
#
# Everything is deterministic: all randomness comes from random.Random(2026)
# (mnemonic entropy, keys, seeds, ids); os.urandom / secrets are never used.
# Output depends on the package versions (wordlists, dnstwist glyph tables), so they
# are pinned and checked at start-up (pass --any-version to run anyway).
#
# Rerun (from the repository root):
#   python3 -m venv /tmp/shield-venv \
#     && /tmp/shield-venv/bin/pip install mnemonic==0.21 bip-utils==2.12.3 dnstwist==20250130 \
#     && /tmp/shield-venv/bin/python crates/shield/data/generate.py
#
# Inputs read from the repository: demo/kb/articles/*.md and
# crates/bot/data/{training-a,training-b,eval}.csv (prose for benign.txt).

import csv
import hashlib
import json
import random
import re
import sys
import unicodedata
import uuid
from collections import Counter, OrderedDict
from importlib.metadata import version
from pathlib import Path

PINNED = {"mnemonic": "0.21", "bip-utils": "2.12.3", "dnstwist": "20250130"}

for _pkg, _want in PINNED.items():
    _have = version(_pkg)
    if _have != _want and "--any-version" not in sys.argv:
        sys.exit(f"{_pkg}=={_have} installed but {_want} is pinned; output would differ "
                 f"(install the pinned versions or pass --any-version)")

import dnstwist  # noqa: E402
import idna  # noqa: E402  (dependency of dnstwist)
from bip_utils import (  # noqa: E402
    Base58Decoder,
    Bip44,
    Bip44Changes,
    Bip44Coins,
    Bip49,
    Bip49Coins,
    Bip84,
    Bip84Coins,
    Ed25519PrivateKey,
    EthAddrEncoder,
    P2PKHAddrEncoder,
    P2PKHPubKeyModes,
    P2SHAddrEncoder,
    P2TRAddrEncoder,
    P2WPKHAddrEncoder,
    Secp256k1PrivateKey,
    SolAddrEncoder,
    TrxAddrEncoder,
    WifDecoder,
    WifEncoder,
)
from mnemonic import Mnemonic  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
ARTICLES = REPO / "demo" / "kb" / "articles"
CSVS = [REPO / "crates" / "bot" / "data" / n for n in ("training-a.csv", "training-b.csv", "eval.csv")]

rng = random.Random(2026)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# The ten BIP39 wordlists of the spec (bitcoin/bips bip-0039). mnemonic 0.21 also ships
# "russian" and "turkish", which are not part of BIP39 and for which the package's own
# Mnemonic.check() rejects most generated phrases (wordlist stored NFC, input normalised
# NFKD), so they are deliberately left out.
WORDLISTS = [
    "english", "chinese_simplified", "chinese_traditional", "french", "italian",
    "japanese", "korean", "spanish", "czech", "portuguese",
]
LENGTHS = [12, 15, 18, 21, 24]
PER_COMBO = 12
LATIN = {"english", "french", "italian", "spanish", "czech", "portuguese"}
CHINESE = {"chinese_simplified", "chinese_traditional"}


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


# --------------------------------------------------------------------------------------
# secrets.jsonl
# --------------------------------------------------------------------------------------

# Separator styles. Each (wordlist, length) combination gets every style of its group
# once (12 styles, 12 phrases per combination).
STYLES_LATIN = ["space", "comma_space", "comma", "newline", "num_dot", "num_paren_nl",
                "num_dash", "double_space", "title", "upper", "num_dot_nl", "tab"]
STYLES_CHINESE = ["space", "nosep", "nosep", "comma_space", "comma", "fw_comma",
                  "newline", "num_dot", "num_paren_nl", "num_dash", "double_space", "ideo_space"]
STYLES_JAPANESE = ["ideo_space", "ideo_space", "ideo_space", "space", "space", "newline",
                   "num_dot", "num_paren_nl", "num_dash", "comma_space", "double_space", "ideo_comma"]
STYLES_KOREAN = ["space", "space", "comma_space", "comma", "newline", "num_dot",
                 "num_paren_nl", "num_dash", "double_space", "num_dot_nl", "tab", "space"]


def styles_for(lang):
    if lang in CHINESE:
        return STYLES_CHINESE
    if lang == "japanese":
        return STYLES_JAPANESE
    if lang == "korean":
        return STYLES_KOREAN
    return STYLES_LATIN


def join_words(words, style):
    if style in ("space", "title", "upper"):
        if style == "title":
            words = [w[:1].upper() + w[1:] for w in words]
        elif style == "upper":
            words = [w.upper() for w in words]
        return " ".join(words)
    if style == "comma_space":
        return ", ".join(words)
    if style == "comma":
        return ",".join(words)
    if style == "fw_comma":
        return "，".join(words)
    if style == "ideo_comma":
        return "、".join(words)
    if style == "newline":
        return "\n".join(words)
    if style == "tab":
        return "\t".join(words)
    if style == "double_space":
        return "  ".join(words)
    if style == "ideo_space":
        return "\u3000".join(words)
    if style == "nosep":
        return "".join(words)
    if style == "num_dot":
        return " ".join(f"{i}. {w}" for i, w in enumerate(words, 1))
    if style == "num_dot_nl":
        return "\n".join(f"{i}. {w}" for i, w in enumerate(words, 1))
    if style == "num_paren_nl":
        return "\n".join(f"{i}){w}" for i, w in enumerate(words, 1))
    if style == "num_dash":
        return " ".join(f"{i}-{w}" for i, w in enumerate(words, 1))
    raise ValueError(style)


SEED_TEMPLATES = {
    "en": [
        "help, my wallet is empty, this is my phrase: {s} what happened?",
        "Hi, I imported my wallet with these words\n{s}\nbut the balance shows 0. Can you check?",
        "my seed phrase is {s}",
        "URGENT!!! someone stole my funds. Recovery phrase: {s}. Please freeze everything",
        "Is this the correct format for the backup? {s}",
        "the support agent on telegram asked me to verify my wallet so I sent: {s} was that ok?",
        "I wrote down my mnemonic like this: \"{s}\" is it valid?",
        "HELLO SUPPORT, My Wallet Was Drained. Seed: {s} Please Help Me Recover It",
        "{s}\n\nthose are my {n} words, plz help",
        "hi team\nwallet backup ({n} words):\n{s}\nthanks",
        "Can You Restore My Account With This: {s} ?? i lost my phone",
        "i think i typed it wrong, my secret recovery phrase = {s}",
    ],
    "zh-CN": [
        "客服你好，我的助记词是 {s} 请帮我找回",
        "钱包里的币全没了！！助记词：{s} 怎么回事",
        "我导入了助记词 {s} 但是余额是0，是不是哪里错了？",
        "你好，这是我的钱包备份：\n{s}\n麻烦看一下",
        "刚才有个客服让我验证钱包，我把助记词发给他了：{s}，这样安全吗",
        "助记词 {s} 帮我查一下这个钱包",
        "我的{n}个助记词：{s} 能恢复吗",
    ],
    "zh-TW": [
        "客服您好，我的助記詞是 {s} 請幫我找回資產",
        "錢包被盜了，助記詞：{s} 該怎麼辦？",
        "請問這組助記詞格式對嗎？{s}",
        "我把恢復短語抄下來了：\n{s}\n可以幫我確認嗎",
        "你好 我的錢包備份是 {s} 麻煩協助",
    ],
    "alone": ["{s}"],
}

PRIVKEY_TEMPLATES = {
    "en": [
        "my private key is {s}, can you restore my wallet?",
        "exported the key from metamask: {s} is that my address?",
        "Private Key: {s}",
        "hi, I found this in my notes {s} is this my key? what should I do",
        "someone asked for my key so I gave them {s} and now my USDT is gone",
    ],
    "zh-CN": [
        "私钥：{s} 帮我导入一下",
        "这是我的私钥 {s} 为什么导入后余额是0",
        "客服你好，私钥{s}对应的地址是哪个？",
    ],
    "zh-TW": [
        "我的私鑰是 {s} 請幫我看看",
        "私鑰：{s}，可以幫我轉出資產嗎",
    ],
    "alone": ["{s}"],
}

WIF_TEMPLATES = {
    "en": [
        "WIF: {s}",
        "here's my bitcoin private key (wif) {s} can you sweep it to my account?",
        "I exported this from electrum: {s} is it safe to import?",
        "paper wallet key {s} - the balance does not show",
    ],
    "zh-CN": [
        "比特币私钥 {s} 怎么导入",
        "纸钱包上的私钥是{s}，请问怎么提出来",
    ],
    "zh-TW": ["比特幣私鑰：{s} 要怎麼匯入？"],
    "alone": ["{s}"],
}

XPRV_TEMPLATES = {
    "en": [
        "my xprv is {s}",
        "Electrum master private key: {s} please check balance",
        "exported extended key\n{s}\nfrom my hardware wallet, where are my coins?",
        "is this the right key to give you? {s}",
    ],
    "zh-CN": [
        "扩展私钥：{s} 帮我看看余额",
        "这是钱包导出的主私钥 {s} 能帮我恢复吗",
    ],
    "zh-TW": ["擴展私鑰 {s} 請協助查詢"],
    "alone": ["{s}"],
}

KEYSTORE_TEMPLATES = {
    "en": [
        "here is my keystore file, I forgot the password: {s}",
        "Hi, my keystore JSON is below\n{s}\ncan you decrypt it?",
        "MyEtherWallet backup {s} what do I do now",
    ],
    "zh-CN": [
        "UTC 文件内容如下：\n{s}\n能帮我解密吗",
        "keystore：{s} 密码忘了怎么办",
    ],
    "zh-TW": ["這是我的 keystore 檔案 {s} 請幫我還原"],
    "alone": ["{s}"],
}

TEXT_LANG_WEIGHTS = [("en", 40), ("zh-CN", 25), ("zh-TW", 15), ("alone", 20)]


def pick_text_lang():
    langs, weights = zip(*TEXT_LANG_WEIGHTS)
    return rng.choices(langs, weights=weights)[0]


def embed(templates, secret, **extra):
    tmpl = rng.choice(templates[pick_text_lang()])
    text = tmpl.replace("{n}", str(extra.get("n", ""))).replace("{s}", secret)
    return text


def gen_seed_phrases():
    out = []
    for lang in WORDLISTS:
        m = Mnemonic(lang)
        styles = styles_for(lang)
        forms_differ = any(unicodedata.normalize("NFC", w) != w for w in m.wordlist)
        for li, n in enumerate(LENGTHS):
            for i in range(PER_COMBO):
                entropy = rng.randbytes(n * 11 * 32 // 33 // 8)
                phrase = m.to_mnemonic(entropy)
                assert m.check(phrase)
                words = phrase.split(m.delimiter)
                form = "nfkd"  # as the package gives them (all ten lists are NFKD)
                if forms_differ and (i + li) % 2 == 1:
                    form = "nfc"
                    words = [unicodedata.normalize("NFC", w) for w in words]
                secret = join_words(words, styles[i])
                text = embed(SEED_TEMPLATES, secret, n=n)
                out.append({"kind": "seed_phrase", "lang": lang, "text": text,
                            "secret": secret, "form": form, "_style": styles[i], "_words": n})
    return out


def rand_privkey():
    while True:
        k = rng.randbytes(32)
        if 0 < int.from_bytes(k, "big") < SECP256K1_N:
            return k


def gen_private_key_hex():
    out = []
    variants = [(True, False), (True, True), (False, False), (False, True)]  # (0x, upper)
    for i in range(40):
        prefix, upper = variants[i % 4]
        h = rand_privkey().hex()
        if upper:
            h = h.upper()
        secret = ("0x" if prefix else "") + h
        lang = ("0x-" if prefix else "") + ("upper" if upper else "lower")
        out.append({"kind": "private_key_hex", "lang": lang,
                    "text": embed(PRIVKEY_TEMPLATES, secret), "secret": secret})
    return out


def gen_wif():
    out = []
    variants = [("mainnet", b"\x80", P2PKHPubKeyModes.COMPRESSED),
                ("mainnet", b"\x80", P2PKHPubKeyModes.UNCOMPRESSED),
                ("testnet", b"\xef", P2PKHPubKeyModes.COMPRESSED),
                ("testnet", b"\xef", P2PKHPubKeyModes.UNCOMPRESSED)]
    for i in range(40):
        net, ver, mode = variants[i % 4]
        secret = WifEncoder.Encode(rand_privkey(), net_ver=ver, pub_key_mode=mode)
        out.append({"kind": "wif", "lang": f"{net}-{'compressed' if mode == P2PKHPubKeyModes.COMPRESSED else 'uncompressed'}",
                    "text": embed(WIF_TEMPLATES, secret), "secret": secret})
    return out


def gen_xprv():
    out = []
    makers = [
        ("xprv", lambda seed: Bip44.FromSeed(seed, Bip44Coins.BITCOIN)),
        ("yprv", lambda seed: Bip49.FromSeed(seed, Bip49Coins.BITCOIN)),
        ("zprv", lambda seed: Bip84.FromSeed(seed, Bip84Coins.BITCOIN)),
        ("tprv", lambda seed: Bip44.FromSeed(seed, Bip44Coins.BITCOIN_TESTNET)),
    ]
    for prefix, make in makers:
        for i in range(10):
            ctx = make(rng.randbytes(64))
            level = i % 3
            if level >= 1:  # account level m/purpose'/coin'/account'
                ctx = ctx.Purpose().Coin().Account(rng.randrange(0, 3))
            if level == 2:  # change level
                ctx = ctx.Change(Bip44Changes.CHAIN_EXT)
            secret = ctx.PrivateKey().ToExtended()
            assert secret.startswith(prefix), (prefix, secret)
            out.append({"kind": "xprv", "lang": prefix,
                        "text": embed(XPRV_TEMPLATES, secret), "secret": secret})
    return out


def rhex(nbytes):
    return rng.randbytes(nbytes).hex()


def gen_keystore():
    out = []
    for i in range(20):
        if i % 3 == 2:
            kdf = "pbkdf2"
            kdfparams = {"c": rng.choice([10240, 262144]), "dklen": 32, "prf": "hmac-sha256",
                         "salt": rhex(32)}
        else:
            kdf = "scrypt"
            kdfparams = {"dklen": 32, "n": rng.choice([8192, 262144]), "p": 1, "r": 8,
                         "salt": rhex(32)}
        crypto = {"cipher": "aes-128-ctr", "ciphertext": rhex(32),
                  "cipherparams": {"iv": rhex(16)}, "kdf": kdf, "kdfparams": kdfparams,
                  "mac": rhex(32)}
        crypto_key = "Crypto" if i % 4 == 1 else "crypto"
        obj = {}
        address = rhex(20)
        ident = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if i % 5 != 4:
            obj["address"] = address
        obj[crypto_key] = crypto
        if i % 7 != 6:
            obj["id"] = ident
        obj["version"] = 3
        if i % 2 == 0:
            secret = json.dumps(obj, indent=2 if i % 4 == 0 else 4)
        else:
            secret = json.dumps(obj, separators=(",", ":") if i % 4 == 3 else (", ", ": "))
        out.append({"kind": "keystore", "lang": kdf, "text": embed(KEYSTORE_TEMPLATES, secret),
                    "secret": secret})
    return out


NUMBERING = re.compile(r"(?:(?<=^)|(?<=[\s,，、\u3000]))\d{1,2}\s*[.)\-]\s*")
SPLIT = re.compile(r"[\s,，、\u3000]+")


def extract_words(secret, lang):
    """Independent re-parse of a seed-phrase secret into its words."""
    s = NUMBERING.sub(" ", secret)
    tokens = [t for t in SPLIT.split(s) if t]
    if lang in CHINESE:
        tokens = [c for t in tokens for c in t]  # no-separator variant: one char per word
    if lang in LATIN:
        tokens = [t.lower() for t in tokens]
    return tokens


def check_secrets(rows):
    for r in rows:
        assert r["text"].count(r["secret"]) == 1, r
        if r["kind"] == "seed_phrase":
            words = extract_words(r["secret"], r["lang"])
            assert len(words) == r["_words"], (r, words)
            m = Mnemonic(r["lang"])
            assert m.check(" ".join(words)), r
            nf = "NFC" if r["form"] == "nfc" else "NFKD"
            assert all(unicodedata.normalize(nf, w) == w for w in words), r
        elif r["kind"] == "private_key_hex":
            h = r["secret"][2:] if r["secret"].startswith("0x") else r["secret"]
            assert len(h) == 64 and 0 < int(h, 16) < SECP256K1_N
        elif r["kind"] == "wif":
            ver = b"\x80" if r["lang"].startswith("mainnet") else b"\xef"
            WifDecoder.Decode(r["secret"], net_ver=ver)
        elif r["kind"] == "xprv":
            raw = Base58Decoder.CheckDecode(r["secret"])
            assert len(raw) == 78 and r["secret"][:4] == r["lang"]
        elif r["kind"] == "keystore":
            obj = json.loads(r["secret"])
            c = obj.get("crypto") or obj.get("Crypto")
            assert obj["version"] == 3
            for k in ("ciphertext", "cipherparams", "kdf", "kdfparams", "mac"):
                assert k in c


# --------------------------------------------------------------------------------------
# benign.txt
# --------------------------------------------------------------------------------------

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def secp_pub():
    return Secp256k1PrivateKey.FromBytes(rand_privkey()).PublicKey()


def addr_btc():
    kind = rng.choice(["p2pkh", "p2sh", "p2wpkh", "p2wpkh", "p2tr"])
    pub = secp_pub()
    if kind == "p2pkh":
        return P2PKHAddrEncoder.EncodeKey(pub, net_ver=b"\x00")
    if kind == "p2sh":
        return P2SHAddrEncoder.EncodeKey(pub, net_ver=b"\x05")
    if kind == "p2wpkh":
        return P2WPKHAddrEncoder.EncodeKey(pub, hrp="bc", wit_ver=0)
    return P2TRAddrEncoder.EncodeKey(pub, hrp="bc")


def addr_eth():
    return EthAddrEncoder.EncodeKey(secp_pub())


def addr_trx():
    return TrxAddrEncoder.EncodeKey(secp_pub())


def addr_sol():
    return SolAddrEncoder.EncodeKey(Ed25519PrivateKey.FromBytes(rng.randbytes(32)).PublicKey())


def sol_signature():
    n = int.from_bytes(rng.randbytes(64), "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return s


def tx_hash_with_context():
    h = rhex(32)
    if rng.random() < 0.5:
        h = "0x" + h
    if rng.random() < 0.15:
        h = h.upper().replace("0X", "0x")
    fmt = rng.choice([
        "txid: {h}", "TxID:{h}", "TXID {h}", "hash {h}", "tx hash: {h}",
        "transaction hash is {h}", "交易哈希：{h}", "交易哈希 {h}", "TxHash={h}",
        "交易ID：{h}", "交易雜湊：{h}", "txid={h}",
    ])
    return fmt.format(h=h)


def tx_explorer_url():
    h = rhex(32)
    fmt = rng.choice([
        "https://etherscan.io/tx/0x{h}", "https://bscscan.com/tx/0x{h}",
        "https://tronscan.org/#/transaction/{h}", "https://mempool.space/tx/{h}",
        "https://www.blockchain.com/explorer/transactions/btc/{h}",
        "https://arbiscan.io/tx/0x{h}", "https://polygonscan.com/tx/0x{h}",
    ])
    return fmt.format(h=h)


def tx_ref():
    # ~40% of 64-hex hashes carry a context word, the rest are explorer URLs
    return tx_hash_with_context() if rng.random() < 0.4 else tx_explorer_url()


def order_id():
    return str(rng.randrange(10**17, 10**19))


def uid():
    return str(rng.randrange(10**7, 10**10))


def phone():
    kind = rng.randrange(4)
    if kind == 0:
        return f"+86 1{rng.choice('3578')}{rng.randrange(10)} {rng.randrange(10**4):04d} {rng.randrange(10**4):04d}"
    if kind == 1:
        return f"1{rng.choice('3578')}{rng.randrange(10)}{rng.randrange(10**8):08d}"
    if kind == 2:
        return f"09{rng.randrange(10, 100)}-{rng.randrange(1000):03d}-{rng.randrange(1000):03d}"
    return f"+1 (415) 555-01{rng.randrange(100):02d}"


COINS = [("USDT", 2), ("BTC", 6), ("ETH", 4), ("TRX", 1), ("SOL", 3), ("USDC", 2), ("BNB", 4)]


def amount():
    coin, dp = rng.choice(COINS)
    if coin in ("USDT", "USDC", "TRX"):
        v = rng.uniform(5, 25000)
    elif coin == "BTC":
        v = rng.uniform(0.0005, 2)
    else:
        v = rng.uniform(0.01, 80)
    return f"{v:,.{dp}f} {coin}"


def date(zh):
    mo, d = rng.randrange(1, 13), rng.randrange(1, 29)
    hh, mm = rng.randrange(24), rng.randrange(60)
    kind = rng.randrange(3)
    if kind == 0:
        return f"2026-{mo:02d}-{d:02d} {hh:02d}:{mm:02d}"
    if kind == 1:
        return f"2026/{mo}/{d}"
    if zh:
        return f"{mo}月{d}日 {hh}:{mm:02d}"
    return f"{['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][mo - 1]} {d}"


NETWORKS = ["TRC20", "ERC20", "BEP20", "Solana", "Arbitrum", "Polygon", "Bitcoin"]

BENIGN_TEMPLATES = [
    # English
    "hi, my deposit of {amount} has not arrived yet, {tx}",
    "Withdrawal still pending since {date}. {tx} please check",
    "I sent {amount} to {eth} on {network} but it never showed up. {tx}",
    "deposit address {trx} shows nothing, {tx}",
    "my UID is {uid}, order {order} is stuck",
    "Order ID {order} was cancelled but the funds are frozen, UID {uid}",
    "hello, I can't receive SMS on {phone}, my uid {uid}",
    "please whitelist this address {btc} for my account {uid}",
    "Is {sol} a valid Solana address for USDC deposits?",
    "why is my BTC withdrawal to {btc} taking so long? {tx}",
    "P2P order {order}: I paid on {date} but the seller has not released the coins",
    "Changed my phone number to {phone}, now 2FA fails. UID: {uid}",
    "Sent {amount} via {network} on {date}, {tx}, still not credited",
    "The explorer says confirmed: {tx}",
    "my friend sent USDT to {trx}, it says success on chain, {tx}",
    "Can you confirm {eth} is my deposit address on BEP20?",
    "withdrawal to {sol} failed, order {order}",
    "I want to close my account, UID {uid}, phone {phone}",
    "refund for order {order} ({amount}) please",
    "deposit from {btc} on {date} not showing, {tx}",
    # Simplified Chinese
    "你好，我{date}充值了{amount}，到现在还没到账，{tx}",
    "提币一直在处理中，{tx}，麻烦查一下",
    "我往{trx}转了{amount}，链上显示成功，但是账户里没有，{tx}",
    "UID {uid}，订单号 {order} 一直没成交",
    "手机号{phone}收不到验证码，UID：{uid}",
    "请问{eth}这个地址可以用{network}网络充值吗",
    "P2P订单{order}我已经付款了，卖家一直不放币",
    "提币到{btc}好几个小时了还没到，{tx}",
    "我的充值地址是{sol}，为什么SOL没到账",
    "订单{order}被取消了但是资金被冻结了，UID {uid}",
    "{date}提现{amount}，{tx}，对方说没收到",
    "客服你好，我的UID是{uid}，想修改绑定手机{phone}",
    "这个是我的交易记录 {tx} 帮忙看看为什么没到账",
    # Traditional Chinese
    "您好，我{date}入金{amount}，到現在還沒入帳，{tx}",
    "提幣一直顯示處理中，{tx}，麻煩幫我查詢",
    "我轉了{amount}到{trx}，鏈上顯示成功但帳戶沒有，{tx}",
    "UID {uid}，訂單編號 {order} 一直沒有成交",
    "手機號碼{phone}收不到簡訊驗證碼，UID：{uid}",
    "請問{eth}這個地址可以用{network}網路儲值嗎",
    "P2P訂單{order}我已經付款了，賣家一直沒有放幣",
    "提幣到{btc}好幾個小時了還沒到帳，{tx}",
    "我的儲值地址是{sol}，請問SOL為什麼沒有入帳",
]

SLOTS = {
    "amount": amount, "tx": tx_ref, "eth": addr_eth, "btc": addr_btc, "trx": addr_trx,
    "sol": addr_sol, "uid": uid, "order": order_id, "phone": phone,
    "network": lambda: rng.choice(NETWORKS),
}
SLOT_RE = re.compile(r"\{(\w+)\}")


def fill(tmpl):
    zh = bool(CJK.search(tmpl))
    return SLOT_RE.sub(lambda m: date(zh) if m.group(1) == "date" else SLOTS[m.group(1)](), tmpl)


def gen_template_benign(count):
    out = []
    for i in range(count):
        out.append(fill(BENIGN_TEMPLATES[i % len(BENIGN_TEMPLATES)]))
    # a few Solana signatures (base58, not hex) for variety
    for _ in range(20):
        out.append(f"https://solscan.io/tx/{sol_signature()} shows success but I did not get the SOL")
    return out


# Hand-written English prose made of common words. The second half is written to
# consist mostly of BIP39 English words, giving long runs of wordlist words.
ENGLISH_PROSE = [
    "I need to find out what happened to my account because I can not open the app and the support team has not replied",
    "I have been waiting for three days and nobody has told me why my withdrawal is still pending",
    "Can you please tell me when the maintenance will be finished because I want to move my funds before the weekend",
    "I tried to log in this morning but the app keeps saying that my password is wrong even though I just changed it",
    "My friend told me that I should contact you because the money I sent last night did not arrive in my account",
    "I do not understand why my identity verification was rejected again, the photo was clear and the document is valid",
    "I would like to know how long it usually takes for a deposit on the Tron network to show up in the account",
    "Please let me know what I need to do to unlock my account, I did not do anything wrong and I need my money",
    "Every time I try to place an order the page just spins and nothing happens, is there a problem with the website",
    "I lost my phone last week and now I can not get the codes for two factor authentication, what should I do",
    "I received an email that says my account will be closed unless I verify my wallet, is that really from you",
    "Someone on Telegram said he works for your company and asked for my recovery phrase, I did not give it to him",
    "I just want to make sure that the address I copied is correct before I send a large amount",
    "The fee for this withdrawal is much higher than what it says on your fee page, can you explain why",
    "My order was only partly filled and the rest of it is still open, how can I cancel the remaining part",
    "I was charged twice for the same purchase on the P2P market and the seller will not answer my messages",
    "It has been more than twenty four hours and I still have not received any answer to my ticket",
    "I want to change the email address on my account because I no longer have access to the old one",
    "Could you tell me if there is a limit on how much I can withdraw in one day without extra verification",
    "I staked my coins for thirty days and now the period is over but the balance is still locked",
    "I forgot to add the memo when I sent XRP to my deposit address, is there any way to get it back",
    "I sent USDT on the wrong network and now I am really worried that I have lost all of it",
    "The app crashed in the middle of a trade and when I opened it again my position had been closed",
    "Why do I have to wait a whole day before I can withdraw after changing my password",
    "I am trying to set up the authenticator app but the code it shows is never accepted",
    "Thank you for your help yesterday, everything is working now and I can see my balance again",
    "I think someone else logged into my account because there are orders in my history that I did not place",
    "Is it safe to give my API key to a trading bot, and what permissions should I turn off",
    "I can not find the button to download my transaction history for my tax report",
    "The price on the chart and the price I got for my market order were very different, what happened",
    "I want to report a fake website that looks exactly like yours and asks people to connect their wallet",
    "Do you ever ask customers for their seed phrase or private key, a person on WhatsApp did",
    "My bank says the transfer was sent on Monday but it is Thursday now and nothing has arrived",
    "The verification email never arrives, I checked the spam folder and it is not there either",
    "I would like to close my account and withdraw everything that is left, how do I do that",
    "How many confirmations do you need for a Bitcoin deposit before it shows up as available",
    "I accidentally sent ETH to my BTC deposit address, please tell me there is a way to fix this",
    "The new token listing was announced for today but I still can not find it in the markets list",
    "Your chat bot keeps sending me the same article and I really need to speak to a human",
    "I got a text message saying my withdrawal was approved but I never asked for any withdrawal",
    "please help because this deposit still never arrive since yesterday morning and you never answer any message",
    "hello team please check again today because another transfer also never arrive and this account balance still show zero",
    "you said before that this issue will be fixed soon but today the same error code still appear when I open the app",
    "please unlock this account today because I must access all funds before tomorrow morning and nothing work",
    "what happen with this order because the price was correct but the trade never execute and the fee was still taken",
    "can you check why this transfer from another exchange still pending since last weekend",
    "hello please help me find this deposit because the network say success but this account balance still zero",
    "why does this page keep loading because every time you ask me to verify my phone the code never arrive",
    "please confirm whether this address will accept deposit on another network because I want to avoid any mistake",
    "I still have no access because the email code never arrive and the phone code also fail every single time",
    "you can check this order history because there are three trade record that I never made",
    "sorry but this service is very slow because nobody answer any question since Monday morning",
    "please cancel this order because the price change and I want to place another order at a better price",
    "they promise a bonus reward for any new account but this account never receive any bonus after the first deposit",
    "can someone explain why this token balance drop to zero after the upgrade because nothing was moved",
    "this is just a simple question about the fee because the same transfer cost more today than last month",
    "please review this account again because the document was valid and the photo was clear and correct",
    "there is a strange message inside the app that ask me to connect wallet and enter a secret phrase, is this real",
    "thank you team, the deposit finally arrive and the balance is correct now, have a good weekend",
    "my screen show error again and again when I try to open futures, please fix this issue soon",
    "hello there, the app ask for face verify but the camera never open, what can I do now",
    "please help, I want to change the phone number because the old phone is broken and I can not receive any code",
    "another question, how long will the staking reward take to arrive, it has been over a week",
    "the price alert never ring even though the price cross the level twice today",
    "I found a job offer online that promise daily profit if I deposit money to their account, is this a scam",
    "just want to confirm, you never ask for a seed phrase or private key, right",
    "today I saw a video where someone say your exchange will give away free coin if I send some first",
    "because the market move so fast I could not cancel in time and the stop order never trigger",
    "all my open order vanish after the update and the balance also look wrong",
    "please tell me what document you need because I already upload my passport twice",
    "I am a new user and I would like to know how to buy USDT with my bank card",
    "what is the minimum amount for a withdrawal to the Tron network and how much is the fee",
    "can I use the same deposit address for USDT on both Ethereum and BNB Smart Chain",
    "the two factor code from my authenticator is always wrong, I already synced the time on my phone",
    "how do I turn on the anti phishing code so I can tell which emails are really from you",
    "after I changed my password I was logged out everywhere, is that normal",
    "the identity check keeps failing at the selfie step even in good light",
    "I would like a copy of all my trades from last year as a spreadsheet",
    "is there an official Telegram group or is every group I find a fake one",
    "I got a call from someone who knew my name and my balance, how did they get that information",
    "my referral link stopped working and my friend could not sign up with it",
    "the fee tier did not update even though my trading volume was high enough last month",
    "where can I see the interest I earned on flexible savings",
    "the withdrawal whitelist is on but I can not add a new address because the button is grey",
    "my account shows a risk control notice, what does that mean and how long will it last",
    "I need a proof of deposit letter for my bank, can you send one",
    "the API returns too many requests even though I only send a few calls a minute",
    "when will the wallet maintenance for Solana be over, my deposit is waiting",
    "I clicked a link in an email and typed my password, then I realised the site was fake, what now",
    "could you explain the difference between a limit order and a market order in simple words",
    "I bought crypto with my card and the money left my bank but the coins are not in my account",
    "my dispute on the P2P order has been open for two days with no update from the arbitrator",
    "I tried to reset my password but the link in the email says it has expired",
    "the app is in Chinese and I can not find where to change the language to English",
    "is it possible to withdraw to an address that is not on my whitelist in an emergency",
    "what happens to my open futures position during the scheduled maintenance",
    "the KYC page says my country is not supported but I live in a supported country",
    "why was my account frozen right after I made a large deposit",
    "please stop sending me marketing emails, I only want security notifications",
    # broken-English style, long runs of BIP39 English words
    "hello team please check this account balance because another deposit still never arrive since yesterday",
    "you must unlock this account today because this asset balance will expire soon, please help",
    "please verify this deposit address again because one small error can cause total damage",
    "can you check again because this transfer still pending since monday and nothing happen",
    "hello, this account still show zero balance after deposit, can you check this deposit record again today",
    "please cancel this order today because price change again and this trade will cause huge loss",
    "you said twice that someone will answer this ticket soon but nothing happen since last week",
    "please confirm this address belong to this account because twenty minute ago this transfer fail",
    "your staff never answer any question about this deposit since monday morning, very unhappy",
    "please review this account history because this token balance become zero during upgrade",
    "please help, this phone number change and now every code fail, can you reset security",
    "hello again, same problem today, this deposit arrive on chain but account balance still zero",
    "please check this fee because this transfer cost double today compare with last month",
    "someone call this phone number and say they are staff, they ask for secret code, is this real",
    "please unlock access because this account will expire soon and all funds still inside",
    "can you explain what this message mean because this account suddenly lock after login",
    "you can check this order history because three trade record appear that this account never open",
    "please help because this deposit arrive twelve hour ago but account balance still empty",
    "this reward promise was never paid, please check this account again because this is unfair",
    "twenty hour ago this withdrawal start and still pending, please speak to someone and fix this issue today",
    "please explain why this account receive this warning message because nothing unusual happen",
    "this app show error code again when this order submit, please fix this issue before market open",
    "hello support team, can you check why this deposit still not arrive, this is urgent",
    "please review this document again because this photo was clear and this license still valid",
    "i want to know when this token will list because that announcement say today",
]


def clean_markdown_line(line):
    s = line.strip()
    if not s:
        return ""
    if re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", s):
        return ""  # table separator
    if s.startswith("|"):
        cells = [c.strip() for c in s.strip("|").split("|")]
        s = " ".join(c for c in cells if c)
    s = re.sub(r"^#{1,6}\s+", "", s)
    s = re.sub(r"^>\s*", "", s)
    s = re.sub(r"^(?:[-*+]|\d+\.)\s+", "", s)
    s = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", s)  # links -> link text
    s = s.replace("**", "").replace("`", "")
    s = re.sub(r"\s+", " ", s).strip()
    return s


def article_paragraphs():
    """Returns (path-sorted) list of (locale, [paragraphs])."""
    result = []
    for path in sorted(ARTICLES.glob("*.md")):
        lines = path.read_text(encoding="utf-8").split("\n")
        locale = "en"
        if lines and lines[0].strip() == "---":
            end = lines.index("---", 1)
            for fm in lines[1:end]:
                if fm.startswith("locale:"):
                    locale = fm.split(":", 1)[1].strip()
            lines = lines[end + 1:]
        paras = [p for p in (clean_markdown_line(line) for line in lines) if p]
        result.append((locale, paras))
    return result


def csv_texts():
    out = []
    for path in CSVS:
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                out.append(re.sub(r"\s+", " ", row["text"]).strip())
    return out


CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def cjk_count(s):
    return len(CJK.findall(s))


def gen_benign():
    sections = OrderedDict()
    articles = article_paragraphs()
    sections["kb articles (paragraphs)"] = [p for _, paras in articles for p in paras]
    sections["bot csv texts"] = csv_texts()
    # Long Chinese prose: join consecutive paragraphs of the zh articles into longer lines.
    joined = []
    for locale, paras in articles:
        if not locale.startswith("zh"):
            continue
        for a, b in zip(paras, paras[1:]):
            if cjk_count(a) >= 8 and cjk_count(b) >= 8:
                joined.append(a + b)
    sections["kb zh joined paragraphs"] = joined
    sections["english prose"] = list(ENGLISH_PROSE)
    sections["templates (txid/addresses/ids)"] = gen_template_benign(1500)

    seen = set()
    lines = []
    per_section = Counter()
    for name, items in sections.items():
        for item in items:
            item = item.strip()
            if item and item not in seen:
                seen.add(item)
                lines.append(item)
                per_section[name] += 1
    return lines, per_section


def longest_wordlist_runs(line, zh_sets, en_set):
    """Longest run of consecutive Chinese wordlist characters / English wordlist words."""
    best_zh = 0
    for ws in zh_sets:
        run = 0
        for ch in line:
            run = run + 1 if ch in ws else 0
            best_zh = max(best_zh, run)
    best_en = run = 0
    for tok in re.findall(r"[A-Za-z]+", line):
        run = run + 1 if tok.lower() in en_set else 0
        best_en = max(best_en, run)
    return best_zh, best_en


def has_valid_window(tokens, m):
    index = {w: i for i, w in enumerate(m.wordlist)}
    for n in LENGTHS:
        for start in range(0, len(tokens) - n + 1):
            idx = [index.get(t) for t in tokens[start:start + n]]
            if None in idx:
                continue
            bits = "".join(format(i, "011b") for i in idx)
            ent_bits = n * 11 * 32 // 33
            ent = int(bits[:ent_bits], 2).to_bytes(ent_bits // 8, "big")
            cs = format(hashlib.sha256(ent).digest()[0], "08b")[: n * 11 - ent_bits]
            if bits[ent_bits:] == cs:
                return True
    return False


def benign_stats(lines):
    zh = [Mnemonic("chinese_simplified"), Mnemonic("chinese_traditional")]
    en = Mnemonic("english")
    zh_sets = [set(m.wordlist) for m in zh]
    en_set = set(en.wordlist)
    stats = Counter()
    for line in lines:
        if cjk_count(line) >= 20:
            stats["chinese_20plus"] += 1
        bz, be = longest_wordlist_runs(line, zh_sets, en_set)
        if bz >= 12:
            stats["zh_run_12plus"] += 1
            chars = list(line)
            if any(has_valid_window(chars, m) for m in zh):
                stats["zh_checksum_valid_window_no_separator"] += 1
        if be >= 12:
            stats["en_run_12plus"] += 1
            toks = [t.lower() for t in re.findall(r"[A-Za-z]+", line)]
            if has_valid_window(toks, en):
                stats["en_checksum_valid_window"] += 1
    return stats


# --------------------------------------------------------------------------------------
# lookalikes.txt
# --------------------------------------------------------------------------------------

OFFICIAL = ["nebula.example", "nebula-ex.com", "nebulaexchange.com", "nbx.io"]


def gen_lookalikes():
    official = {d.lower() for d in OFFICIAL}
    rows = set()
    for dom in OFFICIAL:
        fz = dnstwist.Fuzzer(dom)  # no dictionary files -> the "dictionary" fuzzer yields nothing
        fz.generate()
        for p in fz.domains:
            fuzzer, name = p["fuzzer"], p["domain"].lower()
            if fuzzer == "*original" or name in official:
                continue
            rows.add((dom, fuzzer, name))
            if "xn--" in name:
                uni = idna.decode(name)
                if uni not in official:
                    rows.add((dom, fuzzer, uni))
    # dnstwist's homoglyph fuzzer makes tens of thousands of names (97% of all); every 20th of
    # each official domain's (in sorted order, pairs of punycode and Unicode kept together by
    # sampling the punycode names) keeps the file small and every other fuzzer whole.
    rows = sorted(rows)
    kept, seen = [], {}
    for dom, fuzzer, name in rows:
        if fuzzer == "homoglyph":
            key = name if name.startswith("xn--") or all(ord(c) < 128 for c in name) else None
            if key is None:
                continue  # Unicode twins are added with their punycode name below
            n = seen.get(dom, 0)
            seen[dom] = n + 1
            if n % HOMOGLYPH_EVERY:
                continue
            kept.append((dom, fuzzer, name))
            if name.startswith("xn--") or ".xn--" in name:
                uni = idna.decode(name)
                if uni not in {d.lower() for d in OFFICIAL}:
                    kept.append((dom, fuzzer, uni))
        else:
            kept.append((dom, fuzzer, name))
    return ["\t".join(r) for r in sorted(set(kept))]


HOMOGLYPH_EVERY = 20

# --------------------------------------------------------------------------------------


def main():
    secrets_rows = (gen_seed_phrases() + gen_private_key_hex() + gen_wif() + gen_xprv()
                    + gen_keystore())
    check_secrets(secrets_rows)
    benign, benign_sections = gen_benign()
    secret_set = [r["secret"] for r in secrets_rows]
    for line in benign:
        assert "\n" not in line and "\r" not in line and len(line.splitlines()) == 1, line
    assert not any(s in line for line in benign for s in secret_set if len(s) > 40)
    lookalikes = gen_lookalikes()

    with open(HERE / "secrets.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for r in secrets_rows:
            obj = {k: v for k, v in r.items() if not k.startswith("_")}
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
    write_lines(HERE / "benign.txt", benign)
    write_lines(HERE / "lookalikes.txt", lookalikes)

    # counts
    kinds = Counter(r["kind"] for r in secrets_rows)
    seed_langs = Counter(r["lang"] for r in secrets_rows if r["kind"] == "seed_phrase")
    seed_forms = Counter((r["lang"], r["form"]) for r in secrets_rows if r["kind"] == "seed_phrase")
    seed_styles = Counter(r["_style"] for r in secrets_rows if r["kind"] == "seed_phrase")
    sub = Counter((r["kind"], r["lang"]) for r in secrets_rows if r["kind"] != "seed_phrase")
    fuzzers = Counter(line.split("\t")[1] for line in lookalikes)
    per_official = Counter(line.split("\t")[0] for line in lookalikes)
    bstats = benign_stats(benign)

    readme = render_readme(kinds, seed_langs, seed_forms, seed_styles, sub, len(benign),
                           benign_sections, bstats, len(lookalikes), fuzzers, per_official)
    (HERE / "README.md").write_text(readme, encoding="utf-8", newline="\n")

    print(f"secrets.jsonl: {len(secrets_rows)} lines")
    for k, v in kinds.items():
        print(f"  {k}: {v}")
    print(f"  seed_phrase forms: {dict(sorted(Counter(f for _, f in seed_forms.elements()).items()))}")
    print(f"benign.txt: {len(benign)} lines")
    for k, v in benign_sections.items():
        print(f"  {k}: {v}")
    for k, v in sorted(bstats.items()):
        print(f"  {k}: {v}")
    print(f"lookalikes.txt: {len(lookalikes)} lines")
    for k, v in sorted(fuzzers.items()):
        print(f"  {k}: {v}")
    for k, v in per_official.items():
        print(f"  [{k}]: {v}")
    print("self-check OK")


def render_readme(kinds, seed_langs, seed_forms, seed_styles, sub, n_benign, benign_sections,
                  bstats, n_look, fuzzers, per_official):
    def table(rows, head):
        out = [f"| {head[0]} | {head[1]} |", "|---|---:|"]
        out += [f"| {a} | {b} |" for a, b in rows]
        return "\n".join(out)

    forms = []
    for lang in WORDLISTS:
        c = {f: seed_forms[(lang, f)] for f in ("nfkd", "nfc") if seed_forms[(lang, f)]}
        forms.append((lang, ", ".join(f"{k} {v}" for k, v in c.items())))
    return f"""# shield test data

Generated by `generate.py` (do not edit the data files by hand). Rerun from the repository root:

```sh
python3 -m venv /tmp/shield-venv \\
  && /tmp/shield-venv/bin/pip install mnemonic=={PINNED['mnemonic']} bip-utils=={PINNED['bip-utils']} dnstwist=={PINNED['dnstwist']} \\
  && /tmp/shield-venv/bin/python crates/shield/data/generate.py
```

All randomness comes from `random.Random(2026)`, so the output is byte-for-byte reproducible
with the pinned versions (mnemonic {PINNED['mnemonic']}, bip-utils {PINNED['bip-utils']},
dnstwist {PINNED['dnstwist']}). The script self-checks its output and prints these counts.
None of the keys or phrases hold funds: they are random test values.

## `secrets.jsonl`

One JSON object per line: `{{"kind", "lang", "text", "secret"}}` (+ `"form"` for seed phrases).
`text` is a customer message (English, Simplified or Traditional Chinese, or the secret alone)
that contains `secret` verbatim exactly once. `secret` may contain newlines/tabs (numbered
lists, keystore JSON). Total: {sum(kinds.values())} lines.

{table(sorted(kinds.items()), ("kind", "lines"))}

`lang` means:

- `seed_phrase`: the BIP39 wordlist (12 phrases for each of the lengths 12, 15, 18, 21, 24).
  Only the ten BIP39 wordlists are used; mnemonic {PINNED['mnemonic']} also ships `russian` and
  `turkish` (not part of BIP39, and its own `check()` rejects most of their phrases because of a
  NFC/NFKD mismatch), which are skipped.
- `private_key_hex`: the variant, `0x-lower`, `0x-upper`, `lower`, `upper` (10 each; `0x` prefix stays lower case).
- `wif`: `mainnet|testnet`-`compressed|uncompressed` (prefixes 5/K/L, 9/c).
- `xprv`: the prefix (`xprv` BIP44, `yprv` BIP49, `zprv` BIP84, `tprv` BIP44 testnet), at
  master, account or change depth.
- `keystore`: the KDF (`scrypt` or `pbkdf2`); `crypto` or `Crypto`, pretty or one line,
  some without `address` / `id`. Values are random hex of the right lengths (they do not decrypt).

{table([(f"{k} / {l}", v) for (k, l), v in sorted(sub.items())], ("kind / lang", "lines"))}

Seed-phrase `form` is the Unicode normalisation of `secret`: `nfkd` is how the package's
wordlists are stored; `nfc` appears only for lists where the two differ (french, spanish,
japanese, korean — note the package stores Korean as decomposed jamo). czech and portuguese
wordlists are plain ASCII, so for them NFC = NFKD and all lines say `nfkd`.

{table(forms, ("wordlist", "forms"))}

Separator styles inside `secret` (every (wordlist, length) pair gets each style of its group once):
`space`, `comma_space` (", "), `comma` (","), `newline`, `tab`, `double_space`,
`num_dot` ("1. w 2. w"), `num_dot_nl` ("1. w\\n2. w"), `num_paren_nl` ("1)w\\n2)w"),
`num_dash` ("1-w 2-w"), Latin lists also `title` (Title Case) and `upper` (UPPER CASE);
Chinese also `nosep` (characters run together), `fw_comma` ("，"), `ideo_space` (U+3000);
Japanese mostly `ideo_space` (U+3000, the official separator) and plain `space`, plus `ideo_comma` ("、").

{table(sorted(seed_styles.items()), ("style", "lines"))}

## `benign.txt`

{n_benign} ordinary support messages, one per line, deduplicated; none of them should be flagged:
help-center paragraphs from `demo/kb/articles/*.md` (front matter dropped, markdown markup
removed), pairs of consecutive paragraphs of the Chinese articles joined into one line (long
Chinese prose), every `text` of `crates/bot/data/{{training-a,training-b,eval}}.csv`,
hand-written English prose (the second half is made mostly of BIP39 English words), and
template messages with generated public data: transaction hashes (64 hex; ~40% with a context
word such as `txid`, `TxID:`, `hash`, `交易哈希`, the rest as explorer URLs), BTC
(1…, 3…, bc1q…, bc1p…), ETH, TRON and Solana addresses, order ids, UIDs, phone numbers,
amounts and dates.

{table(list(benign_sections.items()), ("source (after dedup)", "lines"))}

Hard cases in this file (computed by the script):

{table(sorted(bstats.items()), ("property", "lines"))}

- `chinese_20plus`: lines with at least 20 CJK ideographs.
- `zh_run_12plus`: lines with 12+ consecutive characters that are all in one Chinese BIP39 wordlist.
- `zh_checksum_valid_window_no_separator`: of those, lines where some window of 12/15/18/21/24
  consecutive characters even has a valid BIP39 checksum. A detector that accepts Chinese
  phrases without separators must not rely on the checksum alone.
- `en_run_12plus` / `en_checksum_valid_window`: the same for runs of English wordlist words.

## `lookalikes.txt`

`official<TAB>fuzzer<TAB>permutation`, sorted, {n_look} lines, from `dnstwist.Fuzzer(domain).generate()`
(no DNS lookups) for `nebula.example`, `nebula-ex.com`, `nebulaexchange.com`, `nbx.io`. The
`*original` entry and permutations equal to an official domain are dropped. Internationalised
permutations appear twice with the same fuzzer: punycode (`xn--…`) and Unicode. Fuzzer names are
dnstwist's own (`vowel-swap` and `tld-swap` with a hyphen). The `dictionary` and `tld-swap`
fuzzers need word/TLD lists and produce nothing here; `cyrillic` produces nothing because the
names contain letters without a Cyrillic lookalike.

{table(sorted(fuzzers.items()), ("fuzzer", "lines"))}

{table(list(per_official.items()), ("official", "lines"))}
"""


if __name__ == "__main__":
    main()
