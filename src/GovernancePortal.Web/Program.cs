Console.WriteLine("CWD=" + Directory.GetCurrentDirectory());
