//! Reading an input file as text, for every verb that takes one: a file over the verb's size
//! limit is refused before it is read, and bytes that are not UTF-8 are located by line.

use std::path::Path;

/// The text of `path`, or a message naming the file (and the line of the first non-UTF-8 byte).
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    if meta.len() > max_bytes {
        return Err(format!(
            "{shown}: {} bytes is larger than the {max_bytes}-byte limit",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        format!("{shown}:{line}:{column}: not valid UTF-8")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_the_first_byte_that_is_not_utf8() {
        let dir = std::env::temp_dir().join(format!("kafkasim-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bytes.txt");
        std::fs::write(&path, b"ok\nab\xffc\n").unwrap();
        let e = read_text(&path, 100).unwrap_err();
        assert!(e.ends_with("bytes.txt:2:3: not valid UTF-8"), "{e}");
        let e = read_text(&path, 3).unwrap_err();
        assert!(
            e.ends_with("bytes.txt: 8 bytes is larger than the 3-byte limit"),
            "{e}"
        );
        std::fs::write(&path, "fine\n").unwrap();
        assert_eq!(read_text(&path, 100).unwrap(), "fine\n");
        let e = read_text(&dir, 1 << 20).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
