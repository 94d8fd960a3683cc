use super::*;

#[test]
fn complete_documents() {
    let parts = parse_complete(
        b"<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
          <Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>\
          <Part><ETag>b</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>",
    )
    .unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(
        parts[0].checksum,
        Some((ChecksumAlgorithm::Crc32, "AAAAAA==".into()))
    );
    assert_eq!((parts[1].number, parts[1].etag.as_str()), (2, "b"));
    for bad in [
        &b"<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>"[..],
        b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Other/></CompleteMultipartUpload>",
        b"<Complete/>",
    ] {
        assert_eq!(parse_complete(bad).unwrap_err().code, S3ErrorCode::MalformedXML);
    }
    let e = parse_complete(b"<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>").unwrap_err();
    assert_eq!(e.code, S3ErrorCode::InvalidArgument);
}

#[test]
fn copy_ranges() {
    assert_eq!(copy_range("bytes=0-9", 10).unwrap(), (0, 9));
    let e = copy_range("bytes=0-10", 10).unwrap_err();
    assert_eq!(e.code, S3ErrorCode::InvalidArgument);
    assert_eq!(
        e.message,
        "Range specified is not valid for source object of size: 10"
    );
    assert_eq!(
        copy_range("bytes=5-", 10).unwrap_err().code,
        S3ErrorCode::InvalidArgument
    );
    assert_eq!(
        copy_range("bytes=-5", 10).unwrap_err().code,
        S3ErrorCode::InvalidArgument
    );
}
