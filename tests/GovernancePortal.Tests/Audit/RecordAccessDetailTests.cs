using GovernancePortal.Audit;

namespace GovernancePortal.Tests.Audit;

public sealed class RecordAccessDetailTests
{
    [Fact]
    public void Detail_AsWritten_IsReadBackTheSame()
    {
        var detail = new RecordAccessDetail(["keystrokes", "transcriptions"], 7);

        var text = detail.Write();

        Assert.Equal("categories: keystrokes, transcriptions; grant 7", text);
        var read = RecordAccessDetail.Read(text);
        Assert.Equal(detail.Categories, read.Categories);
        Assert.Equal(7, read.GrantId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("pause 3, whole program: audit of the vendor")]
    public void Detail_OfAnotherKindOfEvent_NamesNoCategoryAndNoGrant(string? text)
    {
        var read = RecordAccessDetail.Read(text);

        Assert.Empty(read.Categories);
        Assert.Null(read.GrantId);
    }
}
