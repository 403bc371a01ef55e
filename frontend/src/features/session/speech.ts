// Speaking the flow's texts: the browser's speech synthesis when it has a Mandarin voice, otherwise the
// server's audio (espeak-ng). ``onProgress`` gets how many characters have been read, for highlighting.

export function mandarinVoice(prefer: string): SpeechSynthesisVoice | null {
  if (typeof speechSynthesis === "undefined") return null;
  const voices = speechSynthesis.getVoices().filter((v) => /^(zh|cmn)/i.test(v.lang));
  if (voices.length === 0) return null;
  const wanted = prefer === "male" ? /male|男|yunxi|kangkang/i : /female|女|xiaoxiao|huihui|yaoyao/i;
  return voices.find((v) => wanted.test(v.name)) ?? voices[0] ?? null;
}

export interface Speaker {
  speak(text: string, audioUrl: string, onProgress: (chars: number) => void): Promise<void>;
  cancel(): void;
}

export function createSpeaker(voice: string, wordsPerMinute: number): Speaker {
  let audio: HTMLAudioElement | null = null;
  let ticker = 0;
  return {
    speak(text, audioUrl, onProgress) {
      const v = mandarinVoice(voice);
      if (v) {
        return new Promise((resolve) => {
          const u = new SpeechSynthesisUtterance(text);
          u.voice = v;
          u.lang = v.lang;
          u.rate = Math.max(0.5, Math.min(2, wordsPerMinute / 170));
          u.onboundary = (e) => onProgress(e.charIndex);
          u.onend = () => {
            onProgress(text.length);
            resolve();
          };
          u.onerror = () => resolve();
          speechSynthesis.speak(u);
        });
      }
      return new Promise((resolve) => {
        audio = new Audio(audioUrl);
        const done = () => {
          window.clearInterval(ticker);
          onProgress(text.length);
          resolve();
        };
        audio.onended = done;
        audio.onerror = done; // no audio: the subtitle stays, the customer reads it
        audio.onloadedmetadata = () => {
          const a = audio;
          if (!a) return;
          ticker = window.setInterval(() => {
            if (a.duration > 0) onProgress(Math.floor((a.currentTime / a.duration) * text.length));
          }, 150);
        };
        audio.play().catch(done);
      });
    },
    cancel() {
      window.clearInterval(ticker);
      if (typeof speechSynthesis !== "undefined") speechSynthesis.cancel();
      audio?.pause();
      audio = null;
    },
  };
}
