namespace GovernancePortal.Data;

/// <summary>One row of the records table as stored: the payload already sealed.</summary>
public sealed record RecordRow(
    long ProgramId,
    long CategoryId,
    long SubjectId,
    long? CollectorId,
    long DataKeyId,
    DateTimeOffset CapturedAt,
    DateTimeOffset ReceivedAt,
    byte[] Nonce,
    byte[] Payload);
