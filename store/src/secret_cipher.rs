//! Encryption of secrets at rest (cluster credentials, Secret values, OIDC client secrets).
//!
//! AES-256-GCM with a random 96-bit nonce per value. The stored form is an envelope
//! `v1:<key id>:<base64(nonce || ciphertext+tag)>`, where the key id is the first 8 hex digits
//! of SHA-256 of the key: a value written under another key is reported as such instead of
//! failing as generic corruption.

use std::fs;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

const ENVELOPE_VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

/// A 256-bit key. Its bytes never appear in `Debug` output.
pub struct SecretKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(id {})", self.id())
    }
}

impl SecretKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// Parses a key given as base64 (44 characters) or hex (64 characters).
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex_decode(text)
        } else {
            B64.decode(text).map_err(|_| {
                Error::SecretKey("expected 32 bytes as base64 (44 characters) or hex (64 characters)".into())
            })?
        };
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| Error::SecretKey(format!("a key must be 32 bytes; this one is {} bytes", b.len())))?;
        Ok(Self(SecretBox::new(Box::new(bytes))))
    }

    /// The key from `configured` if given, else from `path`, else a new key written to
    /// `path` (mode 0600). Returns the key and whether it was just created.
    pub fn load_or_create(configured: Option<&SecretString>, path: &Path) -> Result<(Self, bool)> {
        if let Some(text) = configured {
            return Ok((Self::parse(text.expose_secret())?, false));
        }
        let file_err = |action, source| Error::SecretKeyFile { action, path: path.display().to_string(), source };
        match fs::read_to_string(path) {
            Ok(text) => Ok((Self::parse(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(|e| file_err("create the folder of", e))?;
                }
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(|e| file_err("create", e))?;
                writeln!(file, "{}", B64.encode(key.0.expose_secret())).map_err(|e| file_err("write", e))?;
                Ok((key, true))
            }
            Err(e) => Err(file_err("read", e)),
        }
    }

    /// Short public fingerprint: first 8 hex digits of SHA-256 of the key.
    pub fn id(&self) -> String {
        let digest = Sha256::digest(self.0.expose_secret());
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Encrypts and decrypts values with one key.
pub struct SecretCipher {
    aead: Aes256Gcm,
    key_id: String,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretCipher(key id {})", self.key_id)
    }
}

impl SecretCipher {
    pub fn new(key: &SecretKey) -> Self {
        let bytes: [u8; 32] = *key.0.expose_secret();
        let aead = Aes256Gcm::new(&bytes.into());
        Self { aead, key_id: key.id() }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts `plaintext` into the stored envelope form.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| Error::CorruptSecret("encryption failed".into()))?;
        let mut body = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&ciphertext);
        Ok(format!("{ENVELOPE_VERSION}:{}:{}", self.key_id, B64.encode(body)))
    }

    pub fn encrypt_str(&self, plaintext: &str) -> Result<String> {
        self.encrypt(plaintext.as_bytes())
    }

    /// Decrypts an envelope made by [`encrypt`](Self::encrypt) under the same key.
    pub fn decrypt(&self, envelope: &str) -> Result<Vec<u8>> {
        let mut parts = envelope.splitn(3, ':');
        let (Some(version), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::CorruptSecret("not an encrypted envelope".into()));
        };
        if version != ENVELOPE_VERSION {
            return Err(Error::CorruptSecret(format!("unknown envelope version '{version}'")));
        }
        if key_id != self.key_id {
            return Err(Error::WrongSecretKey { found: key_id.to_owned(), configured: self.key_id.clone() });
        }
        let body = B64.decode(body).map_err(|_| Error::CorruptSecret("invalid base64".into()))?;
        if body.len() < NONCE_LEN + 16 {
            return Err(Error::CorruptSecret("too short".into()));
        }
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        self.aead
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| Error::CorruptSecret("authentication failed (altered, or a different key)".into()))
    }

    /// `text` sealed for `purpose` (a cookie's value, say): encrypted and authenticated, and
    /// opened only by [`unseal`](Self::unseal) with the same purpose.
    pub fn seal(&self, purpose: &str, text: &str) -> Result<String> {
        self.encrypt(format!("{purpose}\n{text}").as_bytes())
    }

    pub fn unseal(&self, purpose: &str, sealed: &str) -> Result<String> {
        let bytes = self.decrypt(sealed)?;
        let text = String::from_utf8(bytes).map_err(|_| Error::CorruptSecret("not UTF-8 text".into()))?;
        text.strip_prefix(purpose)
            .and_then(|rest| rest.strip_prefix('\n'))
            .map(str::to_owned)
            .ok_or_else(|| Error::CorruptSecret("sealed for another purpose".into()))
    }

    pub fn decrypt_string(&self, envelope: &str) -> Result<SecretString> {
        let bytes = self.decrypt(envelope)?;
        String::from_utf8(bytes).map(SecretString::from).map_err(|_| Error::CorruptSecret("not UTF-8 text".into()))
    }
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).filter_map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_for_its_purpose_and_key() {
        let cipher = SecretCipher::new(&SecretKey::generate());
        let sealed = cipher.seal("login", "{\"state\":\"s\"}").unwrap();
        assert_eq!(cipher.unseal("login", &sealed).unwrap(), "{\"state\":\"s\"}");
        assert!(!sealed.contains("state"), "encrypted, not encoded");
        assert!(cipher.unseal("other", &sealed).is_err(), "another purpose");
        assert!(SecretCipher::new(&SecretKey::generate()).unseal("login", &sealed).is_err(), "another key");
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(cipher.unseal("login", &altered).is_err(), "altered");
    }

    #[test]
    fn round_trip() {
        let cipher = SecretCipher::new(&SecretKey::generate());
        let envelope = cipher.encrypt_str("token-abc").unwrap();
        assert!(envelope.starts_with("v1:"));
        assert!(!envelope.contains("token-abc"));
        assert_eq!(cipher.decrypt_string(&envelope).unwrap().expose_secret(), "token-abc");
    }

    #[test]
    fn same_plaintext_encrypts_differently() {
        let cipher = SecretCipher::new(&SecretKey::generate());
        assert_ne!(cipher.encrypt_str("x").unwrap(), cipher.encrypt_str("x").unwrap());
    }

    #[test]
    fn wrong_key_is_reported_not_garbage() {
        let a = SecretCipher::new(&SecretKey::generate());
        let b = SecretCipher::new(&SecretKey::generate());
        let envelope = a.encrypt_str("secret").unwrap();
        let err = b.decrypt(&envelope).unwrap_err();
        assert!(matches!(err, Error::WrongSecretKey { .. }), "{err:?}");
        assert!(err.to_string().contains(a.key_id()), "{err}");
    }

    #[test]
    fn tampering_is_detected() {
        let cipher = SecretCipher::new(&SecretKey::generate());
        let envelope = cipher.encrypt_str("secret").unwrap();
        let (head, body) = envelope.rsplit_once(':').unwrap();
        let mut raw = B64.decode(body).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = format!("{head}:{}", B64.encode(raw));
        assert!(matches!(cipher.decrypt(&tampered), Err(Error::CorruptSecret(_))));
        assert!(matches!(cipher.decrypt("garbage"), Err(Error::CorruptSecret(_))));
    }

    #[test]
    fn keys_parse_from_base64_and_hex() {
        let hex = "00".repeat(32);
        let from_hex = SecretKey::parse(&hex).unwrap();
        let from_b64 = SecretKey::parse(&B64.encode([0u8; 32])).unwrap();
        assert_eq!(from_hex.id(), from_b64.id());
        let err = SecretKey::parse(&B64.encode([0u8; 16])).unwrap_err();
        assert!(err.to_string().contains("32 bytes; this one is 16"), "{err}");
        assert!(SecretKey::parse("not a key!").is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/secret.key");
        let (first, created) = SecretKey::load_or_create(None, &path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let (second, created) = SecretKey::load_or_create(None, &path).unwrap();
        assert!(!created);
        assert_eq!(first.id(), second.id());
        // A configured key wins over the file.
        let configured = SecretString::from(B64.encode([7u8; 32]));
        let (third, _) = SecretKey::load_or_create(Some(&configured), &path).unwrap();
        assert_ne!(third.id(), first.id());
    }
}
