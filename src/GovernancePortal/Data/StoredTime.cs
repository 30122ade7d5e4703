namespace GovernancePortal.Data;

/// <summary>
/// Times are stored in UTC at microsecond precision (PostgreSQL's). Anything hashed or bound into a
/// ciphertext is normalized first, so what is read back is exactly what was sealed.
/// </summary>
public static class StoredTime
{
    public static DateTimeOffset Normalize(DateTimeOffset value) =>
        new(value.UtcTicks - value.UtcTicks % 10, TimeSpan.Zero);
}
