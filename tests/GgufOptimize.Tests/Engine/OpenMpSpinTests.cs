using GgufOptimize.Engine;

namespace GgufOptimize.Tests.Engine;

/// <summary>llama.cpp's OpenMP workers stop spinning soon after a decode, unless the user said how they should wait.</summary>
public class OpenMpSpinTests
{
    [Fact]
    public void Without_a_user_setting_the_short_spin_is_chosen()
    {
        Assert.Equal("10000", OpenMpSpin.ValueFor(_ => null));
    }

    [Theory]
    [InlineData("GOMP_SPINCOUNT", "300000")]
    [InlineData("GOMP_SPINCOUNT", "infinite")]
    [InlineData("OMP_WAIT_POLICY", "ACTIVE")]
    [InlineData("OMP_WAIT_POLICY", "passive")]
    public void A_user_setting_is_left_alone(string variable, string value)
    {
        Assert.Null(OpenMpSpin.ValueFor(name => name == variable ? value : null));
    }

    [Fact]
    public void Once_llama_cpp_is_loaded_the_native_environment_holds_the_spin_count()
    {
        // The test process's own environment decides what is expected: a user's setting stays, else ours is set.
        string? user = Environment.GetEnvironmentVariable(OpenMpSpin.SpinVariable);
        string? policy = Environment.GetEnvironmentVariable(OpenMpSpin.PolicyVariable);
        NativeRuntime.Initialize();
        string? seen = OpenMpSpin.NativeValue(OpenMpSpin.SpinVariable);
        if (user is not null) Assert.Equal(user, seen);
        else if (policy is not null) Assert.Null(seen);
        else Assert.Equal(OpenMpSpin.SpinCount.ToString(System.Globalization.CultureInfo.InvariantCulture), seen);
    }
}
